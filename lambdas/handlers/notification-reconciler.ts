import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { type Clock, systemClock } from "../adapters/clock.js";
import { createIncidentRepository } from "../adapters/dynamodb-incident-repository.js";
import { createLogger } from "../adapters/logger.js";
import { CLAIM_LEASE_MS, createNotificationLedger } from "../adapters/notification-ledger.js";
import { METRICS_NAMESPACE } from "../adapters/scan-metrics.js";
import { ScheduledEventSchema } from "../adapters/scheduled-event.js";
import { createStaleOpenIncidents } from "../adapters/stale-incidents.js";
import type { TableNames } from "../adapters/table-specs.js";
import { notify } from "../domain/notify-incident.js";
import {
  type ReconcileDeps,
  type ReconcileReport,
  type ReconcileSettings,
  reconcileNotifications,
} from "../domain/reconcile-notifications.js";
import { notifierDeps, notifierWiringFromEnv } from "./notifier.js";

const logger = createLogger("notification-reconciler");

/** Metric the construct alarms on: a crash left notifications behind (found by this sweep). */
export const NOTIFICATIONS_BEHIND_METRIC = "NotificationsBehind";

/** Deployed defaults: the notifier's lease, and 5 minutes for the stream to have notified an incident. */
export const DEFAULT_RECONCILE_SETTINGS: ReconcileSettings = {
  claimLeaseMs: CLAIM_LEASE_MS,
  openGraceMs: 5 * 60 * 1000,
};

export class NotificationsStrandedError extends Error {
  constructor(report: ReconcileReport) {
    super(
      `reconciler left ${report.stranded.length} incident(s) open and ${report.failed} notification(s) failed; next run retries`,
    );
    this.name = "NotificationsStrandedError";
  }
}

/** The reconciler's dependencies over DynamoDB, given how the notifier sends (SES/SNS or the outbox). */
export function reconcilerDeps(
  options: Parameters<typeof notifierDeps>[0] & {
    tables: Pick<TableNames, "incidents" | "keys" | "notifications" | "reports">;
    /** The ledger's lease for take-overs (default CLAIM_LEASE_MS; 0 only when no other attempt can be alive). */
    leaseMs?: number;
  },
): ReconcileDeps {
  const ledger = createNotificationLedger(options.client, options.tables.notifications, {
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
  });
  const deps = { ...notifierDeps(options), ledger };
  const clock: Clock = options.clock ?? systemClock;
  return {
    stuckClaims: (before) => ledger.stuckClaims(before),
    staleOpenIncidents: createStaleOpenIncidents(options.client, options.tables.incidents),
    incidents: createIncidentRepository(options.client, options.tables.incidents),
    notify: (planned) => notify(planned, deps),
    clock,
  };
}

/** One sweep; the counts go out as metrics; anything left stranded fails the run (errors alarm). */
export function makeReconcilerHandler(deps: ReconcileDeps, settings: ReconcileSettings, metrics: Metrics) {
  return async (event: unknown): Promise<ReconcileReport> => {
    ScheduledEventSchema.parse(event);
    const report = await reconcileNotifications(deps, settings);
    const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
    count(NOTIFICATIONS_BEHIND_METRIC, report.stuckClaims + report.staleOpenIncidents);
    count("StuckClaims", report.stuckClaims);
    count("StaleOpenIncidents", report.staleOpenIncidents);
    count("NotificationsResumed", report.resumed);
    count("IncidentsStranded", report.stranded.length);
    metrics.publishStoredMetrics();
    const summary = { ...report, stranded: report.stranded.length };
    if (report.stuckClaims + report.staleOpenIncidents > 0) {
      logger.warn("notifications left behind by a crash were resumed", summary);
    } else {
      logger.info("nothing to reconcile", summary);
    }
    if (report.stranded.length > 0 || report.failed > 0) throw new NotificationsStrandedError(report);
    return report;
  };
}

let wired: ReturnType<typeof makeReconcilerHandler> | undefined;

/** Lambda entry point (EventBridge schedule): wired from the environment once, at cold start. */
export async function handler(event: unknown): Promise<ReconcileReport> {
  if (!wired) {
    wired = makeReconcilerHandler(
      reconcilerDeps(notifierWiringFromEnv()),
      DEFAULT_RECONCILE_SETTINGS,
      new Metrics({ namespace: METRICS_NAMESPACE, serviceName: "notification-reconciler" }),
    );
  }
  return wired(event);
}
