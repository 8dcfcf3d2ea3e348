import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { afterEach, describe, expect, it } from "vitest";
import { type StreamPump, startStreamPump } from "../../bin/local/stream-pump.js";
import { createTestTables } from "../support/dynamodb.js";

let pump: StreamPump | undefined;
afterEach(async () => {
  await pump?.stop();
  pump = undefined;
});

const put = (db: Awaited<ReturnType<typeof createTestTables>>, sk: string) =>
  db.client.send(
    new PutCommand({ TableName: db.names.incidents, Item: { pk: "PUMP#test", sk, entity: "other" } }),
  );

describe("the local stream pump", () => {
  it("delivers each write of the incidents table as a stream record with its new image", async () => {
    const db = await createTestTables();
    const seen: DynamoDBRecord[] = [];
    pump = await startStreamPump({
      endpoint: db.endpoint,
      tableName: db.names.incidents,
      pollMs: 50,
      handler: async (event: DynamoDBStreamEvent) => {
        seen.push(...event.Records);
        return { batchItemFailures: [] };
      },
    });

    await put(db, "a");
    await put(db, "b");
    await pump.drained();

    expect(seen.map((r) => r.dynamodb?.NewImage?.sk?.S)).toEqual(["a", "b"]);
  });

  it("retries from the first record the handler reports in batchItemFailures", async () => {
    const db = await createTestTables();
    const deliveries: string[] = [];
    let failOnce = true;
    pump = await startStreamPump({
      endpoint: db.endpoint,
      tableName: db.names.incidents,
      pollMs: 50,
      handler: async (event): Promise<DynamoDBBatchResponse> => {
        const failures: DynamoDBBatchResponse["batchItemFailures"] = [];
        for (const record of event.Records) {
          const sk = record.dynamodb?.NewImage?.sk?.S ?? "";
          deliveries.push(sk);
          if (sk === "b" && failOnce) {
            failOnce = false;
            failures.push({ itemIdentifier: record.dynamodb?.SequenceNumber ?? "" });
          }
        }
        return { batchItemFailures: failures };
      },
    });

    await put(db, "a");
    await put(db, "b");
    await pump.drained();

    expect(deliveries.filter((sk) => sk === "b")).toHaveLength(2);
    expect(deliveries.filter((sk) => sk === "a")).toHaveLength(1);
  });

  it("dead-letters a record that keeps failing after maxAttempts", async () => {
    const db = await createTestTables();
    const dead: DynamoDBRecord[] = [];
    pump = await startStreamPump({
      endpoint: db.endpoint,
      tableName: db.names.incidents,
      pollMs: 50,
      maxAttempts: 3,
      retry: { baseMs: 20 },
      handler: async (event) => ({
        batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? "" })),
      }),
      onDeadLetter: (record) => dead.push(record),
    });

    await put(db, "poison");
    await pump.drained();

    expect(dead.map((r) => r.dynamodb?.NewImage?.sk?.S)).toEqual(["poison"]);
  });
});

describe("the stream pump's retries (issue 16 item 2)", () => {
  it("back off instead of burning attempts: a record held for 1 s is delivered, not dead-lettered", async () => {
    const db = await createTestTables();
    const dead: DynamoDBRecord[] = [];
    const attempts: number[] = [];
    pump = await startStreamPump({
      endpoint: db.endpoint,
      tableName: db.names.incidents,
      pollMs: 50,
      // The old policy: 5 attempts back to back (~250 ms here), then the DLQ. With backoff
      // (100, 200, 400, 800 ms, ±20%) the 5th attempt comes ≥ 1.2 s after the first.
      maxAttempts: 5,
      retry: { baseMs: 100, maxMs: 1_000 },
      handler: async (event) => {
        attempts.push(Date.now());
        // Like a claim in flight until its lease runs out, 1 s after the first attempt.
        const inFlight = Date.now() - (attempts[0] as number) < 1_000;
        return {
          batchItemFailures: inFlight
            ? event.Records.map((r) => ({ itemIdentifier: r.dynamodb?.SequenceNumber ?? "" }))
            : [],
        };
      },
      onDeadLetter: (record) => dead.push(record),
    });

    await put(db, "held");
    await pump.drained(20_000);

    expect(dead).toEqual([]);
    expect(attempts.length).toBeLessThanOrEqual(5);
  });
});

describe("the stream pump's checkpoint (issue 16 item 7)", () => {
  it("resumes after the last handled record on restart instead of replaying the stream", async () => {
    const db = await createTestTables();
    const checkpointFile = join(mkdtempSync(join(tmpdir(), "keywatch-pump-")), "checkpoint.json");
    const seen: string[] = [];
    const handler = async (event: DynamoDBStreamEvent) => {
      seen.push(...event.Records.map((r) => r.dynamodb?.NewImage?.sk?.S ?? ""));
      return { batchItemFailures: [] };
    };
    const start = () =>
      startStreamPump({
        endpoint: db.endpoint,
        tableName: db.names.incidents,
        pollMs: 50,
        checkpointFile,
        handler,
      });
    pump = await start();
    for (const sk of ["a", "b", "c"]) await put(db, sk);
    await pump.drained();
    await pump.stop();

    await put(db, "d");
    pump = await start();
    await pump.drained();

    expect(seen).toEqual(["a", "b", "c", "d"]);
  });

  it("skips records the filter patterns leave out, as Lambda's FilterCriteria does", async () => {
    const db = await createTestTables();
    const seen: string[] = [];
    pump = await startStreamPump({
      endpoint: db.endpoint,
      tableName: db.names.incidents,
      pollMs: 50,
      filters: [{ dynamodb: { NewImage: { sk: { S: ["wanted"] } } } }],
      handler: async (event) => {
        seen.push(...event.Records.map((r) => r.dynamodb?.NewImage?.sk?.S ?? ""));
        return { batchItemFailures: [] };
      },
    });
    await put(db, "noise");
    await put(db, "wanted");
    await pump.drained();
    expect(seen).toEqual(["wanted"]);
  });
});
