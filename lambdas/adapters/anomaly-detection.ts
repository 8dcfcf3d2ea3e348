import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import { AnomalyDetector, type DetectionResult } from "../domain/anomaly/detect-anomalies.js";
import { type AnomalyThresholds, AnomalyThresholdsSchema } from "../domain/anomaly/thresholds.js";
import {
  type CountryResolver,
  type NetworkOwnerResolver,
  TrafficBatch,
} from "../domain/anomaly/traffic-batch.js";
import { hmacSha256Hex } from "../domain/ip-prefix.js";
import type { AlertPublisher } from "./alert-publisher.js";
import { anomalyAlertPublisher } from "./anomaly-alerts.js";
import { type AnomalyRepository, createAnomalyRepository } from "./anomaly-repository.js";
import type { Clock } from "./clock.js";
import {
  createDynamoDbProfileStore,
  createKeyStatusLookup,
  type WriteCounter,
} from "./dynamodb-anomaly-state.js";
import { decodeSubscriptionEvent, isSubscriptionLine, SubscriptionDecodeError } from "./log-subscription.js";

/** `ANOMALY_THRESHOLDS`: optional JSON overriding any subset of the detector thresholds. */
export const AnomalyThresholdsEnvSchema = z.object({
  ANOMALY_THRESHOLDS: z
    .string()
    .optional()
    .transform((raw, ctx) => {
      try {
        return AnomalyThresholdsSchema.parse(raw ? JSON.parse(raw) : {});
      } catch (error) {
        ctx.addIssue({ code: "custom", message: `not valid thresholds JSON: ${(error as Error).message}` });
        return z.NEVER;
      }
    }),
});

export interface AnomalyDetection {
  repository: AnomalyRepository;
  /** A fresh batch to feed lines into. */
  batch(): TrafficBatch;
  /** Adds one input line: an access-log line or a whole subscription event (counted as skipped if malformed). */
  addInputLine(
    batch: TrafficBatch,
    line: string,
  ): "access_log" | "subscription" | "control" | "malformed_event";
  /** Runs the batch through the long-lived detector; `final` closes every open minute and flushes. */
  detect(batch: TrafficBatch, options?: { final?: boolean }): Promise<DetectionResult>;
  /** Writes what is still only in memory (end of a CLI run). */
  flush(): Promise<void>;
  writes: WriteCounter;
}

/**
 * The detector wired to DynamoDB and an alert publisher: the Lambda and `keywatch logs ingest`
 * build it the same way, so both run the same code against the same state. Build it once per
 * process: its state lives in memory between batches and is flushed on schedule.
 */
export function createAnomalyDetection(deps: {
  client: DynamoDBDocumentClient;
  tables: { keys: string; anomalies: string; state: string };
  /** HMAC key for network pseudonyms (Secrets Manager on AWS, `secrets.ipPepper` locally). */
  pepper: string;
  alerts: AlertPublisher;
  resolveCountry: CountryResolver;
  /** IP→ASN owner of a network; without it every network's provider is "unknown". */
  resolveOwner?: NetworkOwnerResolver;
  thresholds: AnomalyThresholds;
  clock?: Clock;
  /** Log minutes between state flushes (default 2). */
  flushEveryMinutes?: number;
}): AnomalyDetection {
  const writes: WriteCounter = { writes: 0 };
  const clockOption = deps.clock ? { clock: deps.clock } : {};
  const profiles = createDynamoDbProfileStore(deps.client, deps.tables.state, {
    ...clockOption,
    counter: writes,
  });
  const repository = createAnomalyRepository(deps.client, deps.tables.anomalies, {
    ...clockOption,
    counter: writes,
  });
  const keyStatus = createKeyStatusLookup(deps.client, deps.tables.keys, clockOption);
  const pseudonyms = new Map<string, string>();
  const pseudonym = (cidr: string) => {
    let id = pseudonyms.get(cidr);
    if (id === undefined) {
      id = hmacSha256Hex(deps.pepper, cidr).slice(0, 32);
      if (pseudonyms.size > 100_000) pseudonyms.clear();
      pseudonyms.set(cidr, id);
    }
    return id;
  };
  const detector = new AnomalyDetector({
    profiles,
    anomalies: repository,
    alerts: anomalyAlertPublisher(deps.alerts),
    keyStatus,
    thresholds: deps.thresholds,
    pseudonym,
    ...(deps.flushEveryMinutes !== undefined ? { flushEveryMinutes: deps.flushEveryMinutes } : {}),
  });
  return {
    repository,
    writes,
    batch: () => new TrafficBatch(deps.resolveCountry, deps.resolveOwner),
    addInputLine(batch, line) {
      if (!isSubscriptionLine(line)) {
        batch.addLine(line);
        return "access_log";
      }
      try {
        const decoded = decodeSubscriptionEvent(JSON.parse(line));
        for (const message of decoded.lines) batch.addLine(message);
        return decoded.control ? "control" : "subscription";
      } catch (error) {
        if (error instanceof SubscriptionDecodeError || error instanceof SyntaxError) {
          batch.skipped.bad_shape++;
          return "malformed_event";
        }
        throw error;
      }
    },
    detect: (batch, options) => detector.process(batch, options),
    flush: () => detector.flush(),
  };
}
