import type { Clock } from "./clock.js";
import type { Incident, IncidentRepository } from "./incident.js";
import { type NotificationKind, type PlannedNotification, planNotifications } from "./notification-plan.js";
import { NotificationInFlightError, type NotifyResult } from "./notify-incident.js";

/** A ledger claim still `sending`: its attempt crashed, or is still running. */
export interface StuckClaim {
  id: string;
  claimedAt: string;
}

export interface ReconcileDeps {
  /** Claims still `sending` that were claimed at or before `claimedBefore` (ISO 8601). */
  stuckClaims(claimedBefore: string): Promise<StuckClaim[]>;
  /** Ids of incidents in state `open` not updated since `updatedBefore` (ISO 8601). */
  staleOpenIncidents(updatedBefore: string): Promise<string[]>;
  incidents: Pick<IncidentRepository, "get">;
  /** The notifier's own use case (claim → send → mark → advance), so a resume is the same protocol. */
  notify(planned: PlannedNotification): Promise<NotifyResult>;
  clock: Clock;
}

export interface ReconcileSettings {
  /** A claim older than this is stuck (the ledger's lease: its attempt can no longer be running). */
  claimLeaseMs: number;
  /** An incident `open` longer than this should have been notified by the stream already. */
  openGraceMs: number;
}

export interface ReconcileReport {
  stuckClaims: number;
  staleOpenIncidents: number;
  /** Notifications this run sent (a stuck claim taken over, or one never attempted). */
  resumed: number;
  /** Notifications found already sent (only the incident's state was behind). */
  alreadySent: number;
  /** Another attempt holds a fresh claim: left to it, looked at again next run. */
  inFlight: number;
  failed: number;
  /** Incidents still `open` after this run although they had something to send. */
  stranded: string[];
}

const KINDS: readonly NotificationKind[] = ["owner_email", "security_alert", "key_event", "report_received"];

/**
 * The planned notification an idempotency key stands for (`NOTIFY#<incident>#<kind>#<opening>`
 * [`#<discriminator>`]), so a stuck claim can be resumed from its key alone; undefined otherwise.
 */
export function parseNotificationId(id: string): PlannedNotification | undefined {
  const [tag, incidentId, kind, opening, discriminator, ...rest] = id.split("#");
  if (tag !== "NOTIFY" || !incidentId || rest.length > 0) return undefined;
  if (!KINDS.includes(kind as NotificationKind) || !/^[1-9][0-9]{0,8}$/.test(opening ?? "")) return undefined;
  const discriminated = discriminator !== undefined && discriminator !== "";
  if ((kind === "report_received") !== discriminated) return undefined;
  return {
    kind: kind as NotificationKind,
    incidentId,
    opening: Number(opening),
    ...(discriminated ? { discriminator } : {}),
  };
}

/**
 * The sweep behind the incidents stream: every notification a crash left half done is finished.
 * (1) Claims stuck in `sending` past the lease are taken over and sent (the crash was between
 * claim and send, or between send and mark: a duplicate only in the latter case). (2) Incidents
 * still `open` past the grace period get their opening's notifications again: the ledger answers
 * `sent` for what was delivered, so only the missing steps run, and the incident moves to
 * `notified`. Anything still open afterwards is reported as stranded (the caller alarms).
 */
export async function reconcileNotifications(
  deps: ReconcileDeps,
  settings: ReconcileSettings,
): Promise<ReconcileReport> {
  const now = deps.clock.now().getTime();
  const report: ReconcileReport = {
    stuckClaims: 0,
    staleOpenIncidents: 0,
    resumed: 0,
    alreadySent: 0,
    inFlight: 0,
    failed: 0,
    stranded: [],
  };
  const run = async (planned: PlannedNotification): Promise<void> => {
    try {
      const result = await deps.notify(planned);
      if (result === "sent" || result === "resent_after_crash") report.resumed += 1;
      else if (result === "already_sent") report.alreadySent += 1;
    } catch (error) {
      if (error instanceof NotificationInFlightError) report.inFlight += 1;
      else report.failed += 1;
    }
  };

  const claims = await deps.stuckClaims(new Date(now - settings.claimLeaseMs).toISOString());
  report.stuckClaims = claims.length;
  for (const claim of claims) {
    const planned = parseNotificationId(claim.id);
    if (planned) await run(planned);
    else report.failed += 1;
  }

  const staleIds = await deps.staleOpenIncidents(new Date(now - settings.openGraceMs).toISOString());
  report.staleOpenIncidents = staleIds.length;
  for (const incidentId of staleIds) {
    const incident = await deps.incidents.get(incidentId);
    if (incident?.state !== "open") continue;
    const plans = openingPlan(incident);
    for (const planned of plans) await run(planned);
    const after = await deps.incidents.get(incidentId);
    if (plans.length > 0 && after?.state === "open" && after.opening === incident.opening) {
      report.stranded.push(incidentId);
    }
  }
  return report;
}

/** What the stream would have planned for this opening of the incident. */
function openingPlan(incident: Incident): PlannedNotification[] {
  return planNotifications({ entity: "incident", after: incident });
}
