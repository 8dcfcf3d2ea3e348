import { gunzipSync } from "node:zlib";
import { z } from "zod";

/** The Lambda event a CloudWatch Logs subscription filter delivers. */
export const SubscriptionEventSchema = z.object({
  awslogs: z.object({
    data: z
      .string()
      .min(1)
      .max(8 * 1024 * 1024),
  }),
});
export type SubscriptionEvent = z.infer<typeof SubscriptionEventSchema>;

const LogDataSchema = z.object({
  messageType: z.enum(["DATA_MESSAGE", "CONTROL_MESSAGE"]),
  logGroup: z.string().optional(),
  logStream: z.string().optional(),
  logEvents: z
    .array(z.object({ id: z.string().optional(), timestamp: z.number().optional(), message: z.string() }))
    .max(100_000),
});

export class SubscriptionDecodeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SubscriptionDecodeError";
  }
}

/** Decompressed payloads above this are refused (CloudWatch Logs batches are at most ~1 MB raw). */
export const MAX_DECODED_BYTES = 64 * 1024 * 1024;

/**
 * The access-log lines of a subscription event: base64 → gunzip → JSON → `logEvents[].message`.
 * CONTROL_MESSAGE (CloudWatch's reachability probe) yields no lines. Throws
 * SubscriptionDecodeError on a malformed envelope (bad base64/gzip/JSON/shape).
 */
export function decodeSubscriptionEvent(event: unknown): { lines: string[]; control: boolean } {
  const envelope = SubscriptionEventSchema.safeParse(event);
  if (!envelope.success) throw new SubscriptionDecodeError("not a CloudWatch Logs subscription event");
  let json: string;
  try {
    json = gunzipSync(Buffer.from(envelope.data.awslogs.data, "base64"), {
      maxOutputLength: MAX_DECODED_BYTES,
    }).toString("utf8");
  } catch (error) {
    throw new SubscriptionDecodeError("awslogs.data is not base64 gzip", { cause: error });
  }
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch (error) {
    throw new SubscriptionDecodeError("awslogs.data is not JSON", { cause: error });
  }
  const data = LogDataSchema.safeParse(payload);
  if (!data.success)
    throw new SubscriptionDecodeError("awslogs.data has an unexpected shape", { cause: data.error });
  if (data.data.messageType === "CONTROL_MESSAGE") return { lines: [], control: true };
  return { lines: data.data.logEvents.map((e) => e.message), control: false };
}

/** What a line of `keywatch logs ingest` input is: an access-log line or a whole subscription event. */
export function isSubscriptionLine(line: string): boolean {
  return line.startsWith('{"awslogs"') || /^\s*\{\s*"awslogs"\s*:/.test(line.slice(0, 64));
}
