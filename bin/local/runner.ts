import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock } from "../../lambdas/adapters/clock.js";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { type Route, routeRequests } from "../../lambdas/adapters/local-http.js";
import { handler as healthz } from "../../lambdas/handlers/healthz.js";
import { consoleRoutes } from "./console-routes.js";
import { type LocalEnvironment, openLocalEnvironment } from "./local-environment.js";
import {
  localFindingRecorder,
  type Service,
  type ServiceContext,
  startDemoStandIn,
  startGitHubScanners,
  startNotifier,
} from "./local-services.js";
import { reportFormRoutes } from "./report-form-routes.js";
import { secretScanningRoute } from "./secret-scanning-route.js";
import { homePaths, type LocalSettings } from "./settings.js";

export class PortInUseError extends Error {
  constructor(port: number, options?: { cause?: unknown }) {
    super(`port ${port} is in use; set PORT=... to another port (PORT=0 picks a free one)`, options);
    this.name = "PortInUseError";
  }
}

export interface StartOptions {
  /** Where progress lines go (default: stdout). */
  log?: (line: string) => void;
  /** Run the pollers/sweeps in-process (default true); tests switch them off to drive them by hand. */
  schedulers?: boolean;
  /** Run the incidents-stream pump + notifier (default true). */
  notifier?: boolean;
  clock?: Clock;
  /** Size of the stand-in's recorded-shape event stream (default 600). */
  demoEvents?: number;
}

/** What route factories and background services get from the runner. */
export interface RunnerContext {
  settings: LocalSettings;
  env: LocalEnvironment;
  paths: ReturnType<typeof homePaths>;
  clock: Clock;
  log: (line: string) => void;
}

export interface LocalMonitor {
  url: string;
  env: LocalEnvironment;
  home: string;
  /** Raw keys the offline demo planted (in memory only; tests use them to prove they never leak). */
  demoKeys: string[];
  stop(): Promise<void>;
}

/**
 * Every HTTP route of the local server: the same paths as behind API Gateway (DESIGN.md
 * "Local interfaces"). Channel engineers add their handlers here, built from `ctx`.
 */
export function localRoutes(ctx: RunnerContext): Route[] {
  return [
    { method: "GET", path: "/healthz", handler: healthz },
    ...consoleRoutes(ctx),
    ...reportFormRoutes(ctx),
    secretScanningRoute(ctx),
  ];
}

/**
 * Background work started after the server listens: incidents-stream pump + notifier (#4),
 * GitHub events poller + code-search sweep (#7), the GitHub stand-in in offline mode (#7).
 */
async function startServices(ctx: RunnerContext, options: StartOptions): Promise<StartedServices> {
  const started: Service[] = [];
  const service: ServiceContext = {
    client: ctx.env.client,
    tables: ctx.env.tables,
    endpoint: ctx.env.endpoint,
    outbox: ctx.paths.outbox,
    prefixes: ctx.settings.keyPrefixes,
    log: ctx.log,
    now: () => ctx.clock.now(),
  };
  try {
    if (options.notifier !== false) started.push(await startNotifier(service));
    let demoKeys: string[] = [];
    if (options.schedulers !== false) {
      const { github } = ctx.settings;
      let apiUrl = github.apiUrl;
      if (github.mode === "stand-in") {
        const demo = await startDemoStandIn(
          service,
          options.demoEvents ? { events: options.demoEvents } : {},
        );
        started.push(demo.service);
        apiUrl = demo.url;
        demoKeys = demo.planted;
      }
      if (apiUrl) {
        ctx.log(`github: polling ${github.mode === "stand-in" ? "the stand-in" : apiUrl}`);
        started.push(
          startGitHubScanners(
            { ...service, recordFindings: localFindingRecorder(service) },
            { apiUrl, ...(github.token ? { token: github.token } : {}) },
          ),
        );
      }
    }
    return { services: started, demoKeys };
  } catch (error) {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    throw error;
  }
}

interface StartedServices {
  services: Service[];
  /** Raw demo keys planted in the stand-in: in memory only, for tests (never logged or stored). */
  demoKeys: string[];
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(error.code === "EADDRINUSE" ? new PortInUseError(port, { cause: error }) : error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, "127.0.0.1");
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/**
 * The whole monitor on one machine: DynamoDB Local (data in KEYWATCH_HOME/dynamodb), one HTTP
 * server for every route, the schedulers and the notifier in-process, an outbox folder.
 */
export async function startLocalMonitor(
  settings: LocalSettings,
  options: StartOptions = {},
): Promise<LocalMonitor> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const paths = homePaths(settings.home);
  mkdirSync(paths.emails, { recursive: true });
  const env = await openLocalEnvironment(settings, { advertise: true });
  log(
    `keywatch: DynamoDB at ${env.endpoint} (${env.ownsDynamoDb ? "started, data in" : "shared"} ${paths.dynamoDbData})`,
  );
  const ctx: RunnerContext = { settings, env, paths, clock: options.clock ?? systemClock, log };
  const server = createServer(routeRequests(localRoutes(ctx)));
  let port: number;
  try {
    port = await listen(server, settings.port);
  } catch (error) {
    await env.close();
    throw error;
  }
  const url = `http://127.0.0.1:${port}`;
  let services: Service[] = [];
  let demoKeys: string[] = [];
  try {
    ({ services, demoKeys } = await startServices(ctx, options));
  } catch (error) {
    await closeServer(server);
    await env.close();
    throw error;
  }
  log(`keywatch: outbox at ${paths.outbox}`);
  log(`keywatch: console at ${url}/console`);

  let stopping: Promise<void> | undefined;
  return {
    url,
    env,
    home: settings.home,
    demoKeys,
    stop() {
      stopping ??= (async () => {
        // Stop producers first so nothing new is written while tables go away.
        for (const service of [...services].reverse()) {
          await service
            .stop()
            .catch((error: unknown) => log(`keywatch: stopping ${service.name} failed: ${String(error)}`));
        }
        await closeServer(server);
        await env.close();
      })();
      return stopping;
    },
  };
}
