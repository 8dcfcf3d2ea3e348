import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { type Clock, systemClock } from "./clock.js";

export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left in the current window after this one (0 when refused). */
  remaining: number;
  /** Seconds until the window resets: the `Retry-After` of a refusal. */
  retryAfterSeconds: number;
}

/** Counts requests per subject (a pseudonymous client id, never a raw IP). */
export interface RateLimiter {
  consume(subject: string): Promise<RateLimitDecision>;
}

export interface FixedWindowRateLimiterOptions {
  client: DynamoDBDocumentClient;
  /** The state table (pk/sk, TTL `expiresAt`). */
  table: string;
  /** Namespaces the counters, e.g. "report": items are `RATE#<scope>#<subject>`. */
  scope: string;
  limit: number;
  windowSeconds: number;
  clock?: Clock;
}

export class RateLimiterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RateLimiterError";
  }
}

/**
 * A fixed-window counter in DynamoDB: one conditional `ADD` per request, so concurrent Lambdas
 * can't overshoot the limit (the condition and the increment are one atomic write). Refused
 * requests don't count. Counters expire one window after their window ends.
 */
export function createFixedWindowRateLimiter(options: FixedWindowRateLimiterOptions): RateLimiter {
  const { client, table, scope, limit, windowSeconds } = options;
  const clock = options.clock ?? systemClock;
  if (!Number.isInteger(limit) || limit < 1) throw new RateLimiterError("limit must be a positive integer");
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1)
    throw new RateLimiterError("windowSeconds must be a positive integer");
  return {
    async consume(subject) {
      const nowSeconds = Math.floor(clock.now().getTime() / 1000);
      const windowStart = nowSeconds - (nowSeconds % windowSeconds);
      const windowEnd = windowStart + windowSeconds;
      const retryAfterSeconds = Math.max(1, windowEnd - nowSeconds);
      try {
        const result = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: `RATE#${scope}#${subject}`, sk: `WINDOW#${windowStart}` },
            UpdateExpression: "SET #expiresAt = :expiresAt ADD #count :one",
            ConditionExpression: "attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames: { "#count": "count", "#expiresAt": "expiresAt" },
            ExpressionAttributeValues: {
              ":one": 1,
              ":limit": limit,
              ":expiresAt": windowEnd + windowSeconds,
            },
            ReturnValues: "UPDATED_NEW",
          }),
        );
        const count = Number(result.Attributes?.count ?? limit);
        return { allowed: true, remaining: Math.max(0, limit - count), retryAfterSeconds };
      } catch (error) {
        // Matched by name: the document client may surface another copy of the SDK's exception class.
        if ((error as Error).name === "ConditionalCheckFailedException") {
          return { allowed: false, remaining: 0, retryAfterSeconds };
        }
        throw new RateLimiterError(`rate limit counter ${scope} could not be updated`, { cause: error });
      }
    },
  };
}
