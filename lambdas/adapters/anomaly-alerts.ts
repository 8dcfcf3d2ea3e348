import type { AnomalyAlertPublisher } from "../domain/anomaly/ports.js";
import type { AlertPublisher } from "./alert-publisher.js";

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
