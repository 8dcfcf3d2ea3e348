import { z } from "zod";
import { createSnsAlertPublisher, createSnsClient } from "../adapters/alert-publisher.js";
import { systemClock } from "../adapters/clock.js";
import { readEnv, tableNamesFromEnv } from "../adapters/config.js";
import { createDocumentClient } from "../adapters/dynamodb-client.js";
import { createIncidentRepository } from "../adapters/dynamodb-incident-repository.js";
import { createLogger } from "../adapters/logger.js";
import { createNotificationLedger } from "../adapters/notification-ledger.js";
import { ScheduledEventSchema } from "../adapters/scheduled-event.js";
import { createUnknownKeyWindows } from "../adapters/unknown-key-windows.js";
import {
  type DigestDeps,
  type DigestRunResult,
  sendUnknownKeyDigests,
} from "../domain/unknown-key-digest.js";

export interface UnknownKeyDigestHandlerDeps extends DigestDeps {
  logger: { info(message: string, extra: Record<string, unknown>): void };
}

/**
 * The scheduled unknown-key digest sender (every 5 minutes): one security alert per source and
 * closed window of unknown keys. Anything but a schedule event is refused before any work.
 */
export function makeUnknownKeyDigestHandler(deps: UnknownKeyDigestHandlerDeps) {
  return async (event: unknown): Promise<DigestRunResult> => {
    ScheduledEventSchema.parse(event);
    const result = await sendUnknownKeyDigests(deps);
    deps.logger.info("unknown-key digests", { ...result });
    return result;
  };
}

const DigestEnvSchema = z.object({ SECURITY_TOPIC_ARN: z.string().startsWith("arn:") });

let wired: ReturnType<typeof makeUnknownKeyDigestHandler> | undefined;

/** Lambda entry point, wired from the environment once at cold start. */
export async function handler(event: unknown): Promise<DigestRunResult> {
  if (!wired) {
    const env = readEnv(DigestEnvSchema);
    const tables = tableNamesFromEnv(["incidents", "notifications"]);
    const client = createDocumentClient();
    // This function only publishes to the security topic; key events are not its business.
    const alerts = createSnsAlertPublisher(createSnsClient(), {
      security: env.SECURITY_TOPIC_ARN,
      keyEvents: "",
    });
    wired = makeUnknownKeyDigestHandler({
      windows: createUnknownKeyWindows(client, tables.incidents),
      incidents: createIncidentRepository(client, tables.incidents),
      ledger: createNotificationLedger(client, tables.notifications),
      publish: (alert) => alerts.publish(alert),
      clock: systemClock,
      logger: createLogger("unknown-key-digest"),
    });
  }
  return wired(event);
}
