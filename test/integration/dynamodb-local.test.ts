import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { TABLES } from "../../lambdas/adapters/table-specs.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";

let db: TestTables;
beforeAll(async () => {
  db = await createTestTables();
});

describe("tables created from lambdas/adapters/table-specs.ts", () => {
  it("have the incidents stream enabled with old and new images", async () => {
    const table = await db.client.send(new DescribeTableCommand({ TableName: db.names.incidents }));
    expect(table.Table?.StreamSpecification).toMatchObject({
      StreamEnabled: true,
      StreamViewType: "NEW_AND_OLD_IMAGES",
    });
  });

  it("have TTL enabled on the spec's attribute", async () => {
    const ttl = await db.client.send(new DescribeTimeToLiveCommand({ TableName: db.names.reports }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe(TABLES.reports.ttlAttribute);
  });
});

describe("conditional writes", () => {
  it("are rejected for real when the condition fails", async () => {
    const put = () =>
      db.client.send(
        new PutCommand({
          TableName: db.names.keys,
          Item: { keyHash: "a".repeat(64), status: "active" },
          ConditionExpression: "attribute_not_exists(keyHash)",
        }),
      );
    await put();
    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });
});
