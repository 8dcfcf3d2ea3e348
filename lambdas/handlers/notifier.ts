import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { z } from "zod";
import {
  type AlertPublisher,
  createSnsAlertPublisher,
  createSnsClient,
} from "../adapters/alert-publisher.js";
import { type Clock, systemClock } from "../adapters/clock.js";
import { readEnv, tableNamesFromEnv } from "../adapters/config.js";
import { createDocumentClient } from "../adapters/dynamodb-client.js";
import { createIncidentRepository } from "../adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../adapters/dynamodb-key-repository.js";
import { createSesClient, createSesEmailSender, type EmailSender } from "../adapters/email-sender.js";
import { createLogger } from "../adapters/logger.js";
import { composeMimeMessage } from "../adapters/mime-message.js";
import { createNotificationLedger } from "../adapters/notification-ledger.js";
import type { TableNames } from "../adapters/table-specs.js";
import { FindingSourceSchema, LocationSchema } from "../domain/finding.js";
import { INCIDENT_STATES } from "../domain/incident.js";
import { type IncidentChange, planNotifications } from "../domain/notification-plan.js";
import { type NotifyDeps, notify } from "../domain/notify-incident.js";

const logger = createLogger("notifier");

const IncidentImageSchema = z.object({
  entity: z.literal("incident"),
  incidentId: z.string().min(1).max(64),
  kind: z.enum(["leaked_key", "unknown_key"]),
  keyHash: z.string().regex(/^[0-9a-f]{64}$/),
  keyId: z.string(),
  redacted: z.string().max(64),
  projectId: z.string().optional(),
  state: z.enum(INCIDENT_STATES),
  severity: z.enum(["low", "medium", "high"]),
  opening: z.number().int().positive(),
  sources: z.preprocess((v) => (v instanceof Set ? [...v] : v), z.array(FindingSourceSchema)),
  occurrenceCount: z.number().int().nonnegative(),
  openedAt: z.string(),
  updatedAt: z.string(),
  lastSeenAt: z.string(),
  version: z.number().int(),
});

const OccurrenceImageSchema = z.object({
  entity: z.literal("occurrence"),
  incidentId: z.string().min(1).max(64),
  fingerprint: z.string().min(1).max(64),
  source: FindingSourceSchema,
  location: LocationSchema,
  seenAt: z.string(),
  recordedAt: z.string(),
  opening: z.number().int().positive(),
  reportId: z.string().max(64).optional(),
});

function image(raw: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return raw ? unmarshall(raw as Record<string, AttributeValue>) : undefined;
}

/** Validates a stream record's images into the change the notification rules understand. */
export function parseStreamRecord(record: DynamoDBRecord): IncidentChange {
  const before = image(record.dynamodb?.OldImage as Record<string, unknown> | undefined);
  const after = image(record.dynamodb?.NewImage as Record<string, unknown> | undefined);
  const entity = (after ?? before)?.entity;
  if (entity === "incident") {
    return {
      entity,
      ...(before ? { before: IncidentImageSchema.parse(before) } : {}),
      ...(after ? { after: IncidentImageSchema.parse(after) } : {}),
    };
  }
  if (entity === "occurrence") {
    return {
      entity,
      ...(before ? { before: OccurrenceImageSchema.parse(before) } : {}),
      ...(after ? { after: OccurrenceImageSchema.parse(after) } : {}),
    };
  }
  return { entity: "other" };
}

/**
 * Incidents stream → owner email, security alert, key event, report alerts. Each record is
 * handled on its own; failures are reported per record (`batchItemFailures`) so only they retry.
 */
export function makeNotifierHandler(deps: NotifyDeps) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const batchItemFailures: DynamoDBBatchResponse["batchItemFailures"] = [];
    for (const record of event.Records) {
      const sequence = record.dynamodb?.SequenceNumber ?? record.eventID ?? "";
      try {
        const plans = planNotifications(parseStreamRecord(record));
        for (const planned of plans) {
          const result = await notify(planned, deps);
          logger.info("notification", {
            incidentId: planned.incidentId,
            kind: planned.kind,
            opening: planned.opening,
            result,
          });
          if (result === "resent_after_crash") {
            logger.warn("notification re-sent after a crashed attempt's lease ran out", {
              incidentId: planned.incidentId,
              kind: planned.kind,
            });
          }
        }
      } catch (error) {
        logger.error("record failed; will be retried", {
          sequence,
          errorName: (error as Error).name,
          errorMessage: String((error as Error).message).slice(0, 300),
        });
        batchItemFailures.push({ itemIdentifier: sequence });
      }
    }
    return { batchItemFailures };
  };
}

/** The notifier's dependencies over DynamoDB, with the given email sender and alert publisher. */
export function notifierDeps(options: {
  client: DynamoDBDocumentClient;
  tables: Pick<TableNames, "incidents" | "keys" | "notifications" | "reports">;
  email: EmailSender;
  alerts: AlertPublisher;
  sender: string;
  clock?: Clock;
}): NotifyDeps {
  const { client, tables } = options;
  return {
    incidents: createIncidentRepository(client, tables.incidents),
    keys: createKeyRepository(client, tables.keys),
    ledger: createNotificationLedger(client, tables.notifications),
    sendEmail: (email) => options.email.send(email),
    publish: (alert) => options.alerts.publish(alert),
    composeEmail: (input) => composeMimeMessage({ ...input, from: options.sender }),
    async reportDescription(reportId) {
      const out = await client.send(
        new GetCommand({
          TableName: tables.reports,
          Key: { pk: `REPORT#${reportId}` },
          ProjectionExpression: "description",
        }),
      );
      const description = out.Item?.description;
      return typeof description === "string" ? description.slice(0, 2000) : undefined;
    },
    clock: options.clock ?? systemClock,
  };
}

const NotifierEnvSchema = z.object({
  SES_SENDER: z.string().email(),
  SECURITY_TOPIC_ARN: z.string().startsWith("arn:"),
  KEY_EVENTS_TOPIC_ARN: z.string().startsWith("arn:"),
});

/** The notifier's AWS wiring from its environment; the reconciler resumes notifications with the same. */
export function notifierWiringFromEnv(): Parameters<typeof notifierDeps>[0] {
  const env = readEnv(NotifierEnvSchema);
  return {
    client: createDocumentClient(),
    tables: tableNamesFromEnv(["incidents", "keys", "notifications", "reports"]),
    email: createSesEmailSender(createSesClient()),
    alerts: createSnsAlertPublisher(createSnsClient(), {
      security: env.SECURITY_TOPIC_ARN,
      keyEvents: env.KEY_EVENTS_TOPIC_ARN,
    }),
    sender: env.SES_SENDER,
  };
}

let wired: ReturnType<typeof makeNotifierHandler> | undefined;

/** Lambda entry point: wired from the environment once, at cold start. */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  if (!wired) {
    wired = makeNotifierHandler(notifierDeps(notifierWiringFromEnv()));
  }
  return wired(event);
}
