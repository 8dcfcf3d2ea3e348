import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { NotificationLedger } from "../domain/notify-incident.js";
import type { StuckClaim } from "../domain/reconcile-notifications.js";

/** Idempotency records live 30 days (IDEMPOTENCY_RETENTION), longer than any stream retry. */
const RETENTION_SECONDS = 30 * 24 * 3600;
/** A claim older than this belongs to an attempt that crashed: the notifier times out at 60 s. */
export const CLAIM_LEASE_MS = 90 * 1000;

export interface NotificationLedgerOptions {
  /**
   * How long a `sending` claim belongs to the attempt that made it (default CLAIM_LEASE_MS).
   * 0 is for a caller that knows no other attempt can be alive: the local runner at start-up,
   * which holds its data folder's lock, so every `sending` claim is a previous run's crash.
   */
  leaseMs?: number;
}

const epochSeconds = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);

/** Notifications table: `pk = NOTIFY#<incident>#<kind>#<opening>`, status sending → sent, TTL. */
const SENDING = "sending";
const SENDING_INDEX = "bySending";

export function createNotificationLedger(
  client: DynamoDBDocumentClient,
  tableName: string,
  options: NotificationLedgerOptions = {},
): NotificationLedger & { stuckClaims(claimedBefore: string): Promise<StuckClaim[]> } {
  const leaseMs = options.leaseMs ?? CLAIM_LEASE_MS;
  return {
    async claim(id, at) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              pk: id,
              status: "sending",
              // Sparse index key: only claims still sending are in `bySending` (the reconciler's sweep).
              sendingPk: SENDING,
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
      const claimedAt = String(out.Item.claimedAt);
      const age = new Date(at).getTime() - new Date(claimedAt).getTime();
      if (leaseMs > 0 && age <= leaseMs) return "in_flight";
      // The attempt that claimed it crashed: a possible duplicate beats a lost leak notification.
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: id },
            UpdateExpression: "SET claimedAt = :at, takenOver = if_not_exists(takenOver, :zero) + :one",
            ConditionExpression: "#status = :sending AND claimedAt = :old",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: {
              ":at": at,
              ":old": claimedAt,
              ":sending": "sending",
              ":zero": 0,
              ":one": 1,
            },
          }),
        );
        return "taken_over";
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return "in_flight";
      }
    },

    async markSent(id, at) {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pk: id },
          UpdateExpression: "SET #status = :sent, sentAt = :at REMOVE sendingPk",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":sent": "sent", ":at": at },
        }),
      );
    },

    /** The reconciler's sweep: a Query of the sparse `bySending` index (claims not yet marked sent). */
    async stuckClaims(claimedBefore) {
      const stuck: StuckClaim[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: SENDING_INDEX,
            KeyConditionExpression: "sendingPk = :sending AND claimedAt <= :before",
            FilterExpression: "#status = :status",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: {
              ":sending": SENDING,
              ":status": "sending",
              ":before": claimedBefore,
            },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? [])
          stuck.push({ id: String(item.pk), claimedAt: String(item.claimedAt) });
        start = page.LastEvaluatedKey;
      } while (start);
      return stuck;
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
