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
