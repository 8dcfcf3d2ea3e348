import { join } from "node:path";
import { type MessageAttributeValue, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import type { Alert } from "../domain/security-alert.js";
import {
  deadlineRequestHandler,
  SDK_DEADLINES,
  type SdkDeadline,
  withCallDeadline,
} from "./dynamodb-client.js";
import { appendLine } from "./email-sender.js";

/** Publishes an alert to one of keywatch's topics; SNS in AWS, `alerts.jsonl` locally. */
export interface AlertPublisher {
  publish(alert: Alert): Promise<void>;
}

export class AlertPublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AlertPublishError";
  }
}

export function createSnsClient(options: { endpoint?: string; deadline?: SdkDeadline } = {}): SNSClient {
  const deadline = options.deadline ?? SDK_DEADLINES.background;
  return withCallDeadline(
    new SNSClient({
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      maxAttempts: deadline.maxAttempts,
      retryMode: "standard",
      requestHandler: deadlineRequestHandler(deadline),
    }),
    deadline,
  );
}

export function snsAttributes(attributes: Alert["attributes"]): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    out[name] = Array.isArray(value)
      ? { DataType: "String.Array", StringValue: JSON.stringify(value) }
      : { DataType: "String", StringValue: value };
  }
  return out;
}

export function createSnsAlertPublisher(
  client: SNSClient,
  topics: { security: string; keyEvents: string },
): AlertPublisher {
  return {
    async publish(alert) {
      try {
        await client.send(
          new PublishCommand({
            TopicArn: alert.topic === "security" ? topics.security : topics.keyEvents,
            Message: JSON.stringify(alert.message),
            MessageAttributes: snsAttributes(alert.attributes),
          }),
        );
      } catch (error) {
        throw new AlertPublishError(`SNS refused the ${alert.topic} alert`, { cause: error });
      }
    },
  };
}

/** Local mode: one JSON line per alert in `<outbox>/alerts.jsonl`. */
export function createOutboxAlertPublisher(outbox: string): AlertPublisher {
  const path = join(outbox, "alerts.jsonl");
  return {
    async publish(alert) {
      appendLine(
        path,
        JSON.stringify({ topic: alert.topic, message: alert.message, attributes: alert.attributes }),
      );
    },
  };
}
