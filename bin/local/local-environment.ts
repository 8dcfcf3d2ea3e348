import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  createDocumentClient,
  SDK_DEADLINES,
  type SdkDeadline,
} from "../../lambdas/adapters/dynamodb-client.js";
import { localTableNames, type TableNames } from "../../lambdas/adapters/table-specs.js";
import { createTables } from "./create-tables.js";
import { type RunningDynamoDb, startDynamoDbLocal } from "./dynamodb-local.js";
import { homePaths, type LocalSettings } from "./settings.js";

export interface LocalEnvironment {
  client: DynamoDBDocumentClient;
  tables: TableNames;
  endpoint: string;
  /** Secrets generated once per KEYWATCH_HOME (IP pepper, rate-limit HMAC key). */
  secrets: LocalSecrets;
  /** True when this process started DynamoDB Local and owns it. */
  ownsDynamoDb: boolean;
  /** The DynamoDB Local this process started (the runner supervises it). */
  dynamoDb?: RunningDynamoDb;
  /** `up`, or what supervision is doing about the DynamoDB Local this process owns. */
  dynamoDbState?(): DynamoDbState;
  close(): Promise<void>;
}

export interface LocalSecrets {
  /** HMAC key for pseudonymising IP prefixes (rate limits, joins). */
  ipPepper: string;
}

interface DynamoDbLock {
  /** The keywatch process that owns the instance (and the lock). */
  pid: number;
  /** Set once DynamoDB Local answers. */
  endpoint?: string;
  javaPid?: number;
  dataDir?: string;
}

export type DynamoDbState = "up" | "restarting" | "down";

/** What the runner wants told when its DynamoDB Local exits on its own. */
export interface DynamoDbSupervision {
  log(line: string): void;
  /** Restarts failed or came too often: the runner stops with this message. */
  onGaveUp(reason: string): void;
}

/** At most this many restarts within RESTART_WINDOW_MS, then the runner gives up (crash loop). */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 5 * 60_000;

/** Another live keywatch process runs DynamoDB Local on this data folder and `keywatch start` must not share it. */
export class DataFolderInUseError extends Error {
  constructor(home: string, pid: number) {
    super(
      `another keywatch process (pid ${pid}) is running DynamoDB Local on ${home}; ` +
        "stop it first, or set KEYWATCH_HOME to another folder",
    );
    this.name = "DataFolderInUseError";
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Is `pid` a java process serving `dataDir` (so it's safe to end as our orphan)? Linux /proc only. */
function isDynamoDbLocalOn(pid: number, dataDir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return cmdline.some((arg) => arg.endsWith("java")) && cmdline.includes(dataDir);
  } catch {
    return false;
  }
}

async function answers(endpoint: string): Promise<boolean> {
  const client = createDocumentClient({ endpoint });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

function readLock(path: string): DynamoDbLock | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as DynamoDbLock;
  } catch {
    return undefined;
  }
}

/** Rewrites the lock atomically (temp file + rename), so a reader never sees half of it. */
function writeLock(path: string, lock: DynamoDbLock): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(lock));
  renameSync(temp, path);
}

/**
 * A dead owner's DynamoDB Local exits by itself once the owner's pipe closes (the launcher's
 * watchdog); one that is still there after a grace period (hung, or started by an older
 * keywatch) is killed, so two instances never share a data folder.
 */
async function endOrphan(lock: DynamoDbLock, dataDir: string): Promise<void> {
  const { javaPid } = lock;
  if (!javaPid) return;
  const deadline = Date.now() + 5_000;
  while (processAlive(javaPid) && isDynamoDbLocalOn(javaPid, dataDir) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (processAlive(javaPid) && isDynamoDbLocalOn(javaPid, dataDir)) {
    process.kill(javaPid, "SIGKILL");
    while (processAlive(javaPid) && isDynamoDbLocalOn(javaPid, dataDir))
      await new Promise((r) => setTimeout(r, 50));
  }
}

type LockOutcome = { kind: "acquired" } | { kind: "shared"; endpoint: string };

/**
 * Takes the data folder's lock (O_EXCL create), or finds a live owner to share (CLI commands) or
 * refuse (`exclusive`: `keywatch start`). A lock whose owner is dead is taken over once its
 * DynamoDB Local is gone: a kill -9 leaves the lock behind, never a second instance.
 */
async function acquireDataFolder(
  paths: ReturnType<typeof homePaths>,
  home: string,
  exclusive: boolean,
): Promise<LockOutcome> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      writeFileSync(paths.dynamoDbLock, JSON.stringify({ pid: process.pid } satisfies DynamoDbLock), {
        flag: "wx",
      });
      return { kind: "acquired" };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const lock = readLock(paths.dynamoDbLock);
    if (lock && processAlive(lock.pid)) {
      if (exclusive) throw new DataFolderInUseError(home, lock.pid);
      if (lock.endpoint && (await answers(lock.endpoint))) return { kind: "shared", endpoint: lock.endpoint };
      await new Promise((r) => setTimeout(r, 200)); // the owner is still starting it
      continue;
    }
    if (lock) await endOrphan(lock, paths.dynamoDbData);
    rmSync(paths.dynamoDbLock, { force: true });
  }
  throw new Error(`could not take the lock ${paths.dynamoDbLock}`);
}

function loadSecrets(path: string): LocalSecrets {
  if (existsSync(path)) return JSON.parse(readFileSync(path, "utf8")) as LocalSecrets;
  const secrets: LocalSecrets = { ipPepper: randomBytes(32).toString("hex") };
  writeFileSync(path, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

/**
 * The tables every local command uses: DYNAMODB_ENDPOINT when set; else the DynamoDB Local a
 * live keywatch process owns on this KEYWATCH_HOME (CLI commands share it; `keywatch start`,
 * `exclusive`, refuses); else one started here on the data folder under its lock (stopped, and
 * the lock released, by `close`). Tables are created if missing.
 */
export async function openLocalEnvironment(
  settings: LocalSettings,
  options: { exclusive?: boolean; deadline?: SdkDeadline; supervise?: DynamoDbSupervision } = {},
): Promise<LocalEnvironment> {
  const paths = homePaths(settings.home);
  mkdirSync(settings.home, { recursive: true });
  const secrets = loadSecrets(paths.secrets);
  let endpoint = settings.dynamoDbEndpoint;
  let dynamo: RunningDynamoDb | undefined;
  if (!endpoint) {
    const outcome = await acquireDataFolder(paths, settings.home, options.exclusive ?? false);
    if (outcome.kind === "shared") {
      endpoint = outcome.endpoint;
    } else {
      try {
        dynamo = await startDynamoDbLocal({
          dataDir: paths.dynamoDbData,
          allowExposed: settings.dynamoDbExposed,
        });
      } catch (error) {
        rmSync(paths.dynamoDbLock, { force: true });
        throw error;
      }
      endpoint = dynamo.endpoint;
      writeLock(paths.dynamoDbLock, {
        pid: process.pid,
        endpoint,
        javaPid: dynamo.pid,
        dataDir: paths.dynamoDbData,
      });
    }
  }
  const client = createDocumentClient({ endpoint }, options.deadline ?? SDK_DEADLINES.interactive);
  const tables = localTableNames();
  // Creating tables (GSIs, streams) can take seconds on a loaded machine: the background deadline.
  const setup = createDocumentClient({ endpoint });
  try {
    await createTables(setup, tables);
  } catch (error) {
    client.destroy();
    if (dynamo) {
      await dynamo.stop();
      rmSync(paths.dynamoDbLock, { force: true });
    }
    throw error;
  } finally {
    setup.destroy();
  }
  let owned = dynamo;
  let closing = false;
  let state: DynamoDbState = "up";
  const supervise = options.supervise;
  if (owned && supervise) {
    // Restart on the same port and data folder, so every client keeps its endpoint.
    const restarts: number[] = [];
    const watch = (instance: RunningDynamoDb) => {
      void instance.exited.then(async ({ code, signal }) => {
        if (closing) return;
        const now = Date.now();
        while (restarts.length > 0 && (restarts[0] as number) < now - RESTART_WINDOW_MS) restarts.shift();
        if (restarts.length >= MAX_RESTARTS) {
          state = "down";
          supervise.onGaveUp(
            `DynamoDB Local exited (${code ?? signal}) ${MAX_RESTARTS + 1} times within ${RESTART_WINDOW_MS / 60_000} minutes; giving up`,
          );
          return;
        }
        restarts.push(now);
        state = "restarting";
        supervise.log(`keywatch: DynamoDB Local exited (${code ?? signal}); restarting it on the same data`);
        try {
          const next = await startDynamoDbLocal({
            dataDir: paths.dynamoDbData,
            port: instance.port,
            allowExposed: settings.dynamoDbExposed,
          });
          if (closing) {
            await next.stop();
            return;
          }
          owned = next;
          writeLock(paths.dynamoDbLock, {
            pid: process.pid,
            endpoint: next.endpoint,
            javaPid: next.pid,
            dataDir: paths.dynamoDbData,
          });
          state = "up";
          supervise.log("keywatch: DynamoDB Local restarted");
          watch(next);
        } catch (error) {
          state = "down";
          supervise.onGaveUp(
            `DynamoDB Local could not be restarted: ${(error as Error).message.split("\n")[0]}`,
          );
        }
      });
    };
    watch(owned);
  }
  return {
    client,
    tables,
    endpoint,
    secrets,
    ownsDynamoDb: owned !== undefined,
    ...(owned ? { dynamoDb: owned } : {}),
    dynamoDbState: () => (owned && !owned.alive() && state === "up" ? "restarting" : state),
    async close() {
      closing = true;
      client.destroy();
      if (owned) {
        await owned.stop();
        rmSync(paths.dynamoDbLock, { force: true });
      }
    },
  };
}
