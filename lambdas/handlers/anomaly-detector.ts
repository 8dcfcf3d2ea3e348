import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SNSClient } from "@aws-sdk/client-sns";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { z } from "zod";
import { createSnsSecurityPublisher } from "../adapters/anomaly-alerts.js";
import {
  type AnomalyDetection,
  AnomalyThresholdsEnvSchema,
  createAnomalyDetection,
} from "../adapters/anomaly-detection.js";
import { createNetworkOwnerResolver } from "../adapters/anomaly-network-owner.js";
import { readEnv, tableNamesFromEnv } from "../adapters/config.js";
import { createCountryResolver } from "../adapters/country-resolver.js";
import { createDocumentClient } from "../adapters/dynamodb-client.js";
import { decodeSubscriptionEvent, SubscriptionDecodeError } from "../adapters/log-subscription.js";
import { createLogger } from "../adapters/logger.js";

export interface AnomalyDetectorSummary {
  lines: number;
  accepted: number;
  skipped: number;
  anomalies: number;
  alertsPublished: number;
  control?: boolean;
  rejected?: string;
}

type Logger = Pick<ReturnType<typeof createLogger>, "info" | "warn" | "error">;

/**
 * CloudWatch Logs subscription → anomaly detector. A malformed envelope is logged and dropped
 * (retrying can't fix it); a state or alert failure throws so the async retry / DLQ keeps the batch.
 */
export function makeAnomalyDetectorHandler(deps: {
  detection: () => Promise<AnomalyDetection>;
  logger: Logger;
}) {
  return async (event: unknown): Promise<AnomalyDetectorSummary> => {
    let decoded: { lines: string[]; control: boolean };
    try {
      decoded = decodeSubscriptionEvent(event);
    } catch (error) {
      if (!(error instanceof SubscriptionDecodeError)) throw error;
      deps.logger.error("subscription event rejected", { reason: error.message });
      return { lines: 0, accepted: 0, skipped: 0, anomalies: 0, alertsPublished: 0, rejected: error.message };
    }
    if (decoded.control)
      return { lines: 0, accepted: 0, skipped: 0, anomalies: 0, alertsPublished: 0, control: true };
    const detection = await deps.detection();
    const batch = detection.batch();
    for (const line of decoded.lines) batch.addLine(line);
    const result = await detection.detect(batch);
    const summary = {
      lines: decoded.lines.length,
      accepted: result.accepted,
      skipped: batch.skippedTotal,
      anomalies: result.anomalies.length,
      alertsPublished: result.alertsPublished,
    };
    // Counts and anomaly types only: no address, no key.
    deps.logger.info("access logs processed", {
      ...summary,
      skippedBy: result.skipped,
      alertsSuppressed: result.alertsSuppressed,
      types: result.anomalies.map((a) => `${a.type}:${a.severity}`),
    });
    return summary;
  };
}

const EnvSchema = AnomalyThresholdsEnvSchema.extend({
  SECURITY_TOPIC_ARN: z.string().min(1),
  IP_PEPPER_SECRET_ARN: z.string().min(1),
  GEO_DB_PATH: z.string().min(1).optional(),
  ASN_DB_PATH: z.string().min(1).optional(),
});

let wired: Promise<AnomalyDetection> | undefined;

/** Wired at cold start; the pepper is fetched once and kept only in memory. */
function detectionFromEnvironment(): Promise<AnomalyDetection> {
  wired ??= (async () => {
    const env = readEnv(EnvSchema);
    const tables = tableNamesFromEnv(["keys", "anomalies", "state"]);
    const secrets = new SecretsManagerClient({
      maxAttempts: 3,
      requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 5_000 }),
    });
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: env.IP_PEPPER_SECRET_ARN }));
    if (!secret.SecretString) throw new Error("the IP pepper secret has no string value");
    const sns = new SNSClient({
      maxAttempts: 3,
      retryMode: "standard",
      requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 5_000 }),
    });
    return createAnomalyDetection({
      client: createDocumentClient(),
      tables,
      pepper: secret.SecretString,
      alerts: createSnsSecurityPublisher(sns, env.SECURITY_TOPIC_ARN),
      resolveCountry: createCountryResolver(env.GEO_DB_PATH),
      resolveOwner: createNetworkOwnerResolver(env.ASN_DB_PATH),
      thresholds: env.ANOMALY_THRESHOLDS,
    });
  })().catch((error: unknown) => {
    wired = undefined;
    throw error;
  });
  return wired;
}

export const handler = makeAnomalyDetectorHandler({
  detection: detectionFromEnvironment,
  logger: createLogger("anomaly-detector"),
});
