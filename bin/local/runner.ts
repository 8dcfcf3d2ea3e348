import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { Clock } from "../../lambdas/adapters/clock.js";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { createLocalHttpServer, type Route } from "../../lambdas/adapters/local-http.js";
import { consoleRoutes } from "./console-routes.js";
import { type CrashHook, crashHookFrom, noCrash } from "./crash-points.js";
import { startGitHubWatcher } from "./github-watcher-schedule.js";
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
import { startUnknownKeyDigest } from "./unknown-key-digest-schedule.js";

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
  /**
   * DynamoDB Local is gone for good (it kept exiting, or could not be restarted): the runner has
   * stopped itself; `keywatch start` prints the reason and exits non-zero.
   */
  onFatal?: (reason: string) => void;
  /** The local reconciler's period and grace for `open` incidents (defaults 30 s / 2 min). */
  reconcile?: { everyMs?: number; openGraceMs?: number };
}

/** What route factories and background services get from the runner. */
export interface RunnerContext {
  settings: LocalSettings;
  env: LocalEnvironment;
  paths: ReturnType<typeof homePaths>;
  clock: Clock;
  log: (line: string) => void;
  /** Test-only fault injection (KEYWATCH_CRASH_AT); a no-op unless set. */
  crash?: CrashHook;
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
    { method: "GET", path: "/healthz", handler: () => localHealth(ctx) },
    ...consoleRoutes(ctx),
    ...reportFormRoutes(ctx),
    secretScanningRoute(ctx),
  ];
}

/**
 * `GET /healthz` locally: the server answers, and so does its DynamoDB (probed with a 1 s
 * deadline, so a dead or frozen DynamoDB Local shows as 503 instead of an "ok" over 500s).
 */
async function localHealth(ctx: RunnerContext): Promise<APIGatewayProxyStructuredResultV2> {
  const supervised = ctx.env.dynamoDbState?.() ?? "up";
  let dynamodb: string = supervised;
  if (supervised === "up") {
    try {
      await ctx.env.client.send(new ListTablesCommand({ Limit: 1 }), {
        abortSignal: AbortSignal.timeout(1_000),
      });
    } catch {
      dynamodb = "unreachable";
    }
  }
  const ok = dynamodb === "up";
  return {
    statusCode: ok ? 200 : 503,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: JSON.stringify({ status: ok ? "ok" : "degraded", dynamodb }),
  };
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
    crash: ctx.crash ?? noCrash,
    streamCheckpoint: ctx.paths.streamCheckpoint,
    exclusiveData: ctx.env.ownsDynamoDb,
  };
  try {
    if (options.notifier !== false) {
      started.push(
        await startNotifier(service, {
          ...(options.reconcile?.everyMs ? { reconcileEveryMs: options.reconcile.everyMs } : {}),
          ...(options.reconcile?.openGraceMs !== undefined
            ? { openGraceMs: options.reconcile.openGraceMs }
            : {}),
        }),
      );
    }
    // Unknown keys reach the security team only as one digest per source and window (issue 13).
    if (options.notifier !== false) started.push(startUnknownKeyDigest(service));
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
        // Watch lists (issue 12 point 4): every push of the owners `keywatch watch add` names.
        started.push(
          startGitHubWatcher(
            { ...service, recordFindings: localFindingRecorder(service) },
            {
              apiUrl,
              ...(github.token ? { token: github.token } : {}),
              // The demo stream's events are stamped January 2026: a new feed's whole window counts.
              ...(github.mode === "stand-in"
                ? { settings: { firstPollLookbackMs: Number.POSITIVE_INFINITY } }
                : {}),
            },
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

/** Answers a 2xx to a partner delivery or a report: the moment the crash suite's `after-ack` kills at. */
const ACKNOWLEDGED_ROUTES = new Set(["/github/secret-scanning", "/reports"]);

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
  const crash = crashHookFrom(settings.crashAt);
  let monitor: LocalMonitor | undefined;
  let fatal: string | undefined;
  const env = await openLocalEnvironment(settings, {
    exclusive: true,
    supervise: {
      log,
      onGaveUp(reason) {
        fatal = reason;
        log(`keywatch: ${reason}; stopping`);
        void monitor?.stop().then(() => options.onFatal?.(reason));
      },
    },
  });
  log(
    `keywatch: DynamoDB at ${env.endpoint} (${env.ownsDynamoDb ? `started on 127.0.0.1${env.dynamoDb?.loopbackOnly === false ? " and EVERY interface (KEYWATCH_DYNAMODB_EXPOSED=allow)" : " only"}, data in` : "shared"} ${paths.dynamoDbData})`,
  );
  const ctx: RunnerContext = { settings, env, paths, clock: options.clock ?? systemClock, log, crash };
  const server = createLocalHttpServer(localRoutes(ctx), {
    allowedHosts: settings.allowedHosts,
    onError: (routeKey, error) => log(`keywatch: ${routeKey} failed: ${(error as Error)?.name ?? "error"}`),
  });
  // Test-only kill point (the crash suite): right after a 2xx acknowledged a delivery or report.
  server.on("request", (req, res) => {
    if (req.method === "POST" && ACKNOWLEDGED_ROUTES.has((req.url ?? "").split("?")[0] ?? "")) {
      res.once("finish", () => {
        if (res.statusCode >= 200 && res.statusCode < 300) crash("after-ack");
      });
    }
  });
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
  monitor = {
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
  if (fatal) {
    await monitor.stop();
    throw new Error(fatal);
  }
  return monitor;
}
