import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../../lambdas/adapters/dynamodb-client.js";
import { localTableNames, type TableNames } from "../../lambdas/adapters/table-specs.js";
import { createTables } from "./create-tables.js";
import { startDynamoDbLocal } from "./dynamodb-local.js";
import { homePaths, type LocalSettings } from "./settings.js";

export interface LocalEnvironment {
  client: DynamoDBDocumentClient;
  tables: TableNames;
  endpoint: string;
  /** Secrets generated once per KEYWATCH_HOME (IP pepper, rate-limit HMAC key). */
  secrets: LocalSecrets;
  /** True when this process started DynamoDB Local and owns it. */
  ownsDynamoDb: boolean;
  close(): Promise<void>;
}

export interface LocalSecrets {
  /** HMAC key for pseudonymising IP prefixes (rate limits, joins). */
  ipPepper: string;
}

interface DynamoDbLock {
  endpoint: string;
  pid: number;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
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

function loadSecrets(path: string): LocalSecrets {
  if (existsSync(path)) return JSON.parse(readFileSync(path, "utf8")) as LocalSecrets;
  const secrets: LocalSecrets = { ipPepper: randomBytes(32).toString("hex") };
  writeFileSync(path, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

/**
 * The tables every local command uses: DYNAMODB_ENDPOINT when set; else the DynamoDB Local a
 * running `keywatch start` owns (found through KEYWATCH_HOME); else one started here on the
 * same data folder (and stopped by `close`). Tables are created if missing.
 */
export async function openLocalEnvironment(
  settings: LocalSettings,
  options: { advertise?: boolean } = {},
): Promise<LocalEnvironment> {
  const paths = homePaths(settings.home);
  mkdirSync(settings.home, { recursive: true });
  const secrets = loadSecrets(paths.secrets);
  let endpoint = settings.dynamoDbEndpoint;
  let stop: (() => Promise<void>) | undefined;
  if (!endpoint && existsSync(paths.dynamoDbLock)) {
    const lock = JSON.parse(readFileSync(paths.dynamoDbLock, "utf8")) as DynamoDbLock;
    if (processAlive(lock.pid) && (await answers(lock.endpoint))) endpoint = lock.endpoint;
    else rmSync(paths.dynamoDbLock, { force: true });
  }
  if (!endpoint) {
    const dynamo = await startDynamoDbLocal({ dataDir: paths.dynamoDbData });
    endpoint = dynamo.endpoint;
    stop = dynamo.stop;
    if (options.advertise) {
      writeFileSync(
        paths.dynamoDbLock,
        JSON.stringify({ endpoint, pid: process.pid } satisfies DynamoDbLock),
      );
    }
  }
  const client = createDocumentClient({ endpoint });
  const tables = localTableNames();
  await createTables(client, tables);
  return {
    client,
    tables,
    endpoint,
    secrets,
    ownsDynamoDb: stop !== undefined,
    async close() {
      client.destroy();
      if (stop) {
        if (options.advertise) rmSync(paths.dynamoDbLock, { force: true });
        await stop();
      }
    },
  };
}
