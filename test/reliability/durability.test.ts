import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutCommand, ScanCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { createTables } from "../../bin/local/create-tables.js";
import { type RunningDynamoDb, startDynamoDbLocal } from "../../bin/local/dynamodb-local.js";
import { createDocumentClient } from "../../lambdas/adapters/dynamodb-client.js";
import { localTableNames } from "../../lambdas/adapters/table-specs.js";

/**
 * Issue 16 item 1: does DynamoDB Local lose writes it acknowledged when it is killed with SIGKILL?
 * Measured, not assumed: concurrent writers (single puts, and two-item transactions shaped like an
 * incident's opening) run against a data folder; DynamoDB Local is killed mid-burst; it is
 * restarted on the same folder and every acknowledged write is looked up. Single-item writes run
 * as one SQLite job each (BEGIN … COMMIT) and were never lost; an acknowledged TransactWriteItems
 * was (1 of ~280 in 3 kills, each time the writer's last one): the test pins that limit down.
 * KEYWATCH_DURABILITY_TRIALS=N runs N kills (CI: 1).
 */
const TRIALS = Number(process.env.KEYWATCH_DURABILITY_TRIALS ?? 1);
const dataDir = mkdtempSync(join(tmpdir(), "keywatch-durability-"));
const tables = localTableNames("durability");
let dynamo: RunningDynamoDb | undefined;

afterAll(async () => {
  await dynamo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface TrialResult {
  acked: string[];
  lost: string[];
  /** Each writer's last acknowledged write before the kill. */
  lastOfWriter: Set<string>;
}

async function burstThenKill(trial: number, killAtAcked: number): Promise<TrialResult> {
  dynamo = await startDynamoDbLocal({ dataDir });
  const client = createDocumentClient({ endpoint: dynamo.endpoint });
  await createTables(client, tables);
  const acked: string[] = [];
  let killed = false;
  const writer = async (w: number) => {
    for (let i = 0; !killed; i++) {
      const id = `t${trial}-w${w}-${i}`;
      try {
        if (i % 2 === 0) {
          await client.send(new PutCommand({ TableName: tables.state, Item: { pk: id, sk: "put" } }));
        } else {
          await client.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Put: {
                    TableName: tables.state,
                    Item: { pk: id, sk: "put" },
                    ConditionExpression: "attribute_not_exists(pk)",
                  },
                },
                { Put: { TableName: tables.state, Item: { pk: id, sk: "second" } } },
              ],
            }),
          );
        }
        if (!killed) acked.push(id);
      } catch {
        return; // refused or reset by the kill: never acknowledged
      }
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  // Mid-burst: once enough writes were acknowledged (or after 20 s on a very loaded machine).
  const until = Date.now() + 20_000;
  while (acked.length < killAtAcked && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  const ackedAtKill = acked.length;
  process.kill(dynamo.pid, "SIGKILL");
  killed = true;
  await dynamo.exited;
  await Promise.all(writers);
  client.destroy();
  const counted = acked.slice(0, ackedAtKill);

  dynamo = await startDynamoDbLocal({ dataDir });
  const reader = createDocumentClient({ endpoint: dynamo.endpoint });
  const present = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await reader.send(new ScanCommand({ TableName: tables.state, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) if (item.sk === "put") present.add(String(item.pk));
    start = page.LastEvaluatedKey;
  } while (start);
  reader.destroy();
  await dynamo.stop();
  dynamo = undefined;
  const lastOfWriter = new Set<string>();
  for (let w = 0; w < 4; w++) {
    const last = counted.filter((id) => id.startsWith(`t${trial}-w${w}-`)).at(-1);
    if (last) lastOfWriter.add(last);
  }
  return { acked: counted, lost: counted.filter((id) => !present.has(id)), lastOfWriter };
}

/** Writer i's n-th write: even n a single PutItem, odd n a two-item TransactWriteItems. */
const isTransaction = (id: string) => Number(id.split("-").at(-1)) % 2 === 1;

describe("DynamoDB Local killed with SIGKILL mid-burst", () => {
  it(`loses no acknowledged PutItem, and at most each connection's last acknowledged transaction (${TRIALS} kill(s))`, async () => {
    const results: TrialResult[] = [];
    for (let trial = 0; trial < TRIALS; trial++) results.push(await burstThenKill(trial, 150 + trial * 37));
    const acked = results.flatMap((r) => r.acked);
    const lost = results.flatMap((r) => r.lost);
    const lostPuts = lost.filter((id) => !isTransaction(id));
    const lostOlder = results.flatMap((r) => r.lost.filter((id) => !r.lastOfWriter.has(id)));
    process.stdout.write(
      `durability: ${TRIALS} kill(s), ${acked.length} acknowledged writes ` +
        `(${acked.filter(isTransaction).length} transactions), lost: ${lost.length} ` +
        `(${lost.length - lostPuts.length} transactions, ${lostPuts.length} puts) ${JSON.stringify(lost)}\n`,
    );
    expect(acked.length).toBeGreaterThan(0);
    // What DynamoDB Local can lose, measured (docs/data-model.md): never a single-item write, and
    // only a writer's most recent acknowledged transaction.
    expect([lostPuts, lostOlder]).toEqual([[], []]);
  });
});
