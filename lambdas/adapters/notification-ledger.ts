import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { NotificationLedger } from "../domain/notify-incident.js";

/** Idempotency records live 30 days (IDEMPOTENCY_RETENTION), longer than any stream retry. */
const RETENTION_SECONDS = 30 * 24 * 3600;
/** A claim older than this belongs to an attempt that crashed (Lambda's timeout is far shorter). */
const LEASE_MS = 5 * 60 * 1000;

const epochSeconds = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);

/** Notifications table: `pk = NOTIFY#<incident>#<kind>#<opening>`, status sending → sent, TTL. */
export function createNotificationLedger(
  client: DynamoDBDocumentClient,
  tableName: string,
): NotificationLedger {
  return {
    async claim(id, at) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              pk: id,
              status: "sending",
              claimedAt: at,
              expiresAt: epochSeconds(at) + RETENTION_SECONDS,
            },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
        return "claimed";
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      const out = await client.send(
        new GetCommand({ TableName: tableName, Key: { pk: id }, ConsistentRead: true }),
      );
      if (!out.Item) return "in_flight";
      if (out.Item.status === "sent") return "sent";
      const age = new Date(at).getTime() - new Date(String(out.Item.claimedAt)).getTime();
      return age > LEASE_MS ? "unknown" : "in_flight";
    },

    async markSent(id, at) {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: id },
          UpdateExpression: "SET #status = :sent, sentAt = :at",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":sent": "sent", ":at": at },
        }),
      );
    },

    async release(id) {
      await client
        .send(
          new DeleteCommand({
            TableName: tableName,
            Key: { pk: id },
            ConditionExpression: "#status = :sending",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":sending": "sending" },
          }),
        )
        .catch((error: unknown) => {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        });
    },
  };
}
