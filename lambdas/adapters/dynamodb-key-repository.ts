import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { KeyExistsError, type KeyPage, type KeyRecord, type KeyRepository } from "../domain/key-record.js";
import { decodeCursor, encodeCursor } from "./dynamodb-cursor.js";

const FIELDS = [
  "keyHash",
  "keyId",
  "projectId",
  "ownerEmail",
  "status",
  "redacted",
  "createdAt",
  "updatedAt",
  "compromisedAt",
  "incidentId",
  "revokedAt",
] as const;

function toRecord(item: Record<string, unknown>): KeyRecord {
  const record: Record<string, unknown> = {};
  for (const field of FIELDS) if (item[field] !== undefined) record[field] = item[field];
  return record as unknown as KeyRecord;
}

/** The key registry over the keys table: one item per key, keyed by keyHash (see docs/data-model.md). */
export function createKeyRepository(client: DynamoDBDocumentClient, tableName: string): KeyRepository {
  return {
    async get(keyHash) {
      const out = await client.send(
        new GetCommand({ TableName: tableName, Key: { keyHash }, ConsistentRead: true }),
      );
      return out.Item ? toRecord(out.Item) : undefined;
    },

    async getByKeyId(keyId) {
      const out = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: "byKeyId",
          KeyConditionExpression: "keyId = :keyId",
          ExpressionAttributeValues: { ":keyId": keyId },
          Limit: 1,
        }),
      );
      const item = out.Items?.[0];
      return item ? toRecord(item) : undefined;
    },

    async create(record) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: record,
            ConditionExpression: "attribute_not_exists(keyHash)",
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          throw new KeyExistsError(record.keyId, { cause: error });
        throw error;
      }
    },

    async quarantine(keyHash, incidentId, at) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { keyHash },
            UpdateExpression:
              "SET #status = :compromised, compromisedAt = :at, incidentId = :incidentId, updatedAt = :at",
            // Only an active key moves: a racing finding or a revoked key leaves it as it is.
            ConditionExpression: "#status = :active",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: {
              ":compromised": "compromised",
              ":active": "active",
              ":at": at,
              ":incidentId": incidentId,
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },

    async revoke(keyHash, at) {
      try {
        const out = await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { keyHash },
            UpdateExpression:
              "SET #status = :revoked, revokedAt = if_not_exists(revokedAt, :at), updatedAt = :at",
            ConditionExpression: "attribute_exists(keyHash)",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":revoked": "revoked", ":at": at },
            ReturnValues: "ALL_NEW",
          }),
        );
        return out.Attributes ? toRecord(out.Attributes) : undefined;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    },

    async list(options = {}): Promise<KeyPage> {
      const out = await client.send(
        new ScanCommand({
          TableName: tableName,
          Limit: options.limit ?? 100,
          ...(options.cursor ? { ExclusiveStartKey: decodeCursor(options.cursor) } : {}),
        }),
      );
      return {
        keys: (out.Items ?? []).map(toRecord),
        ...(out.LastEvaluatedKey ? { cursor: encodeCursor(out.LastEvaluatedKey) } : {}),
      };
    },
  };
}
