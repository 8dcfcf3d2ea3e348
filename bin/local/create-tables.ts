import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  TABLES,
  type TableKey,
  type TableNames,
  type TableSpec,
} from "../../lambdas/adapters/table-specs.js";

/** The CreateTable input for a spec: the same keys, indexes and stream the CDK stack declares. */
export function createTableInput(spec: TableSpec, tableName: string): CreateTableCommandInput {
  const attributes = new Set<string>([spec.partitionKey]);
  if (spec.sortKey) attributes.add(spec.sortKey);
  for (const index of spec.indexes) {
    attributes.add(index.partitionKey);
    if (index.sortKey) attributes.add(index.sortKey);
  }
  const keySchema = (pk: string, sk?: string) => [
    { AttributeName: pk, KeyType: "HASH" as const },
    ...(sk ? [{ AttributeName: sk, KeyType: "RANGE" as const }] : []),
  ];
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: "S" })),
    KeySchema: keySchema(spec.partitionKey, spec.sortKey),
    ...(spec.indexes.length > 0
      ? {
          GlobalSecondaryIndexes: spec.indexes.map((index) => ({
            IndexName: index.name,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: "ALL" },
          })),
        }
      : {}),
    ...(spec.stream ? { StreamSpecification: { StreamEnabled: true, StreamViewType: spec.stream } } : {}),
  };
}

/** Creates every keywatch table that doesn't exist yet (idempotent). */
export async function createTables(client: DynamoDBDocumentClient, names: TableNames): Promise<void> {
  await Promise.all(
    (Object.keys(TABLES) as TableKey[]).map(async (key) => {
      const spec: TableSpec = TABLES[key];
      try {
        await client.send(new CreateTableCommand(createTableInput(spec, names[key])));
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
        return;
      }
      await client.send(new DescribeTableCommand({ TableName: names[key] }));
      if (spec.ttlAttribute) {
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: names[key],
            TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
          }),
        );
      }
    }),
  );
}
