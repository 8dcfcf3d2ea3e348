import { createOutboxAlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createNotificationLedger } from "../../lambdas/adapters/notification-ledger.js";
import { createUnknownKeyWindows } from "../../lambdas/adapters/unknown-key-windows.js";
import { sendUnknownKeyDigests } from "../../lambdas/domain/unknown-key-digest.js";
import type { Service, ServiceContext } from "./local-services.js";

/** Locally the sender looks for closed windows every minute (deployed: every 5, lib/constructs/unknown-key-digest.ts). */
export const LOCAL_DIGEST_EVERY_MS = 60_000;

/**
 * The unknown-key digest sender in-process, as `keywatch start` runs it: the same use case the
 * Lambda runs, publishing to the outbox's alerts.jsonl. Runs never overlap; stop waits for the current one.
 */
export function startUnknownKeyDigest(ctx: ServiceContext, everyMs = LOCAL_DIGEST_EVERY_MS): Service {
  const outbox = createOutboxAlertPublisher(ctx.outbox);
  const deps = {
    windows: createUnknownKeyWindows(ctx.client, ctx.tables.incidents),
    incidents: createIncidentRepository(ctx.client, ctx.tables.incidents),
    ledger: createNotificationLedger(ctx.client, ctx.tables.notifications),
    async publish(alert: Parameters<typeof outbox.publish>[0]) {
      await outbox.publish(alert);
      ctx.log(
        `alert sent: security unknown_key_digest ${String(alert.message.source)} (${String(alert.message.distinctKeys)} unknown keys)`,
      );
    },
    clock: { now: ctx.now },
  };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    running = sendUnknownKeyDigests(deps)
      .then(() => undefined)
      .catch((error: unknown) => ctx.log(`unknown-key digest: run failed: ${(error as Error).message}`))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  timer = setTimeout(tick, everyMs);
  return {
    name: "unknown-key digest",
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
