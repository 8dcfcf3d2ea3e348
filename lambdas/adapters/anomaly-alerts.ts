import { type MessageAttributeValue, PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import type { AnomalyAlertPublisher } from "../domain/anomaly/ports.js";
// Types only: alert-publisher.ts also holds the local outbox, which pulls in the SES email sender.
import type { AlertPublisher } from "./alert-publisher.js";

export class AnomalyAlertPublishError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AnomalyAlertPublishError";
  }
}

/**
 * High-severity anomalies on the security topic through the shared AlertPublisher (SNS on AWS,
 * outbox/alerts.jsonl locally). Carries key ids, truncated networks and countries only.
 */
export function anomalyAlertPublisher(publisher: AlertPublisher): AnomalyAlertPublisher {
  return {
    async publishAnomaly({ anomaly, suppressedRepeats }) {
      await publisher.publish({
        topic: "security",
        message: { kind: "anomaly", ...anomaly, suppressedRepeats },
        attributes: { kind: "anomaly", severity: anomaly.severity, anomalyType: anomaly.type },
      });
    },
  };
}

/**
 * The detector Lambda's own SNS publisher for the security topic. It exists so the detector's
 * bundle never reaches the SES client (issue 13 item 12): the shared publisher module imports it.
 * Retries and timeouts are the SNS client's (createSnsClient: 3 attempts, 2 s connect, 5 s request).
 */
export function createSnsSecurityPublisher(client: SNSClient, securityTopicArn: string): AlertPublisher {
  return {
    async publish(alert) {
      const attributes: Record<string, MessageAttributeValue> = {};
      for (const [name, value] of Object.entries(alert.attributes)) {
        attributes[name] = Array.isArray(value)
          ? { DataType: "String.Array", StringValue: JSON.stringify(value) }
          : { DataType: "String", StringValue: value };
      }
      try {
        await client.send(
          new PublishCommand({
            TopicArn: securityTopicArn,
            Message: JSON.stringify(alert.message),
            MessageAttributes: attributes,
          }),
        );
      } catch (error) {
        throw new AnomalyAlertPublishError(`SNS refused the ${alert.topic} alert`, { cause: error });
      }
    },
  };
}
