import { randomBytes } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { inject } from "vitest";
import { createTables } from "../../bin/local/create-tables.js";
import { createDocumentClient } from "../../lambdas/adapters/dynamodb-client.js";
import { localTableNames, type TableNames } from "../../lambdas/adapters/table-specs.js";

export interface TestTables {
  client: DynamoDBDocumentClient;
  names: TableNames;
  endpoint: string;
}

/** Fresh tables (unique names) on the run's DynamoDB Local, created from lambdas/adapters/table-specs.ts. */
export async function createTestTables(): Promise<TestTables> {
  const endpoint = inject("dynamoDbEndpoint");
  const client = createDocumentClient({ endpoint });
  const names = localTableNames(`t${randomBytes(4).toString("hex")}`);
  await createTables(client, names);
  return { client, names, endpoint };
}
