import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { RunnerContext } from "../../bin/local/runner.js";
import { LOCAL_PUBLIC_KEYS_FILE } from "../../bin/local/secret-scanning-route.js";
import { homePaths, readLocalSettings } from "../../bin/local/settings.js";
import { systemClock } from "../../lambdas/adapters/clock.js";
import type { TableKey } from "../../lambdas/adapters/table-specs.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";
import { generateSigningKey, published, type TestSigningKey } from "../support/partner-keys.js";

/**
 * A runner context over fresh test tables, as `keywatch start` builds it (offline mode), with a
 * local GitHub signing key trusted by the partner webhook so fuzzed deliveries get past the signature.
 */
export async function reliabilityContext(): Promise<{
  ctx: RunnerContext;
  t: TestTables;
  signer: TestSigningKey;
  lines: string[];
}> {
  const t = await createTestTables();
  const home = mkdtempSync(join(tmpdir(), "keywatch-reliability-"));
  const signer = generateSigningKey();
  writeFileSync(join(home, LOCAL_PUBLIC_KEYS_FILE), JSON.stringify({ public_keys: [published(signer)] }));
  const lines: string[] = [];
  const ctx: RunnerContext = {
    settings: readLocalSettings({ PORT: "0", KEYWATCH_HOME: home }),
    env: {
      client: t.client,
      tables: t.names,
      endpoint: t.endpoint,
      secrets: { ipPepper: "reliability-pepper" },
      ownsDynamoDb: false,
      close: async () => {},
    },
    paths: homePaths(home),
    clock: systemClock,
    log: (line) => lines.push(line),
  };
  return { ctx, t, signer, lines };
}

/** Every item of every table, for "nothing recorded" and "nothing leaked" checks. */
export async function dumpTables(t: TestTables): Promise<Record<TableKey, Record<string, unknown>[]>> {
  const dump = {} as Record<TableKey, Record<string, unknown>[]>;
  for (const [key, name] of Object.entries(t.names) as [TableKey, string][]) {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await t.client.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start }));
      items.push(...((page.Items ?? []) as Record<string, unknown>[]));
      start = page.LastEvaluatedKey;
    } while (start);
    dump[key] = items;
  }
  return dump;
}
