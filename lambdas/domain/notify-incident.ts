import type { Clock } from "./clock.js";
import type { IncidentRepository, Occurrence } from "./incident.js";
import type { KeyRepository } from "./key-record.js";
import { composeLeakEmail, type LeakEmailContent } from "./leak-email.js";
import { notificationId, type PlannedNotification } from "./notification-plan.js";
import { type Alert, keyEvent, reportReceivedAlert, securityAlert } from "./security-alert.js";

/** Idempotency records: claim before sending, mark sent only after the provider accepted it. */
export interface NotificationLedger {
  /**
   * `claimed`: ours to send; `sent`: done before; `in_flight`: another attempt holds a fresh claim;
   * `taken_over`: the claim's lease ran out (its attempt crashed mid-send), so it is ours to send
   * again: at least once, because a lost leak notification is worse than a duplicate.
   */
  claim(id: string, at: string): Promise<"claimed" | "sent" | "in_flight" | "taken_over">;
  markSent(id: string, at: string): Promise<void>;
  /** The send failed for sure: the claim is dropped so the retry can send. */
  release(id: string): Promise<void>;
}

export interface NotifyDeps {
  incidents: IncidentRepository;
  keys: Pick<KeyRepository, "get">;
  ledger: NotificationLedger;
  sendEmail(email: { raw: Uint8Array; incidentId: string }): Promise<void>;
  publish(alert: Alert): Promise<void>;
  composeEmail(input: {
    to: string;
    content: LeakEmailContent;
    messageId: string;
    date: Date;
  }): Promise<Uint8Array>;
  /** A user report's description, when the report form kept it. */
  reportDescription(reportId: string): Promise<string | undefined>;
  clock: Clock;
}

export type NotifyResult = "sent" | "resent_after_crash" | "already_sent" | "skipped";

export class NotificationInFlightError extends Error {
  constructor(id: string) {
    super(`notification ${id} is being sent by another attempt; retry later`);
    this.name = "NotificationInFlightError";
  }
}

/** Sends one planned notification at most once, then (owner email / unknown-key alert) moves open → notified. */
export async function notify(planned: PlannedNotification, deps: NotifyDeps): Promise<NotifyResult> {
  const details = await deps.incidents.details(planned.incidentId);
  if (!details) return "skipped";
  const { incident } = details;
  // A later opening supersedes this one: its own notifications cover it.
  if (incident.opening > planned.opening && planned.kind !== "report_received") return "skipped";

  const id = notificationId(planned);
  const claim = await deps.ledger.claim(id, deps.clock.now().toISOString());
  if (claim === "in_flight") throw new NotificationInFlightError(id);
  if (claim === "sent") {
    // A crash between markSent and markNotified left the incident open: finish that step now.
    if (marksNotified(planned, incident)) await markNotified(planned, deps);
    return "already_sent";
  }

  try {
    await send(planned, details.occurrences, incident, deps);
  } catch (error) {
    await deps.ledger.release(id);
    throw error;
  }
  await deps.ledger.markSent(id, deps.clock.now().toISOString());
  if (marksNotified(planned, incident)) await markNotified(planned, deps);
  return claim === "taken_over" ? "resent_after_crash" : "sent";
}

/** The notification whose delivery moves the incident open → notified. */
function marksNotified(planned: PlannedNotification, incident: { kind: string }): boolean {
  return (
    planned.kind === "owner_email" || (planned.kind === "security_alert" && incident.kind === "unknown_key")
  );
}

async function send(
  planned: PlannedNotification,
  occurrences: Occurrence[],
  incident: Parameters<typeof securityAlert>[0],
  deps: NotifyDeps,
): Promise<void> {
  switch (planned.kind) {
    case "owner_email": {
      const key = await deps.keys.get(incident.keyHash);
      // Erased owner contact: nobody to email; the security alert still goes out.
      if (!key?.ownerEmail) return;
      const ofOpening = occurrences.filter((o) => o.opening === planned.opening);
      const content = composeLeakEmail({
        incident: { ...incident, opening: planned.opening },
        occurrences: ofOpening.length > 0 ? ofOpening : occurrences,
        rotateCommand: `keywatch keys issue --project ${key.projectId} --email ${key.ownerEmail}`,
      });
      const raw = await deps.composeEmail({
        to: key.ownerEmail,
        content,
        messageId: `<${incident.incidentId}.${planned.opening}@keywatch>`,
        date: deps.clock.now(),
      });
      await deps.sendEmail({ raw, incidentId: incident.incidentId });
      return;
    }
    case "security_alert":
      await deps.publish(securityAlert({ ...incident, opening: planned.opening }));
      return;
    case "key_event":
      await deps.publish(keyEvent({ ...incident, opening: planned.opening }));
      return;
    case "report_received": {
      const occurrence = occurrences.find((o) => o.fingerprint === planned.discriminator);
      if (!occurrence) return;
      const description = occurrence.reportId ? await deps.reportDescription(occurrence.reportId) : undefined;
      await deps.publish(reportReceivedAlert(incident, occurrence, description));
      return;
    }
  }
}

async function markNotified(planned: PlannedNotification, deps: NotifyDeps): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await deps.incidents.get(planned.incidentId);
    if (current?.state !== "open" || current.opening !== planned.opening) return;
    const at = deps.clock.now().toISOString();
    const moved = await deps.incidents.transition(current, "notified", {
      incidentId: planned.incidentId,
      at,
      action: "notified",
      from: "open",
      to: "notified",
      actor: "notifier",
      detail: planned.kind === "owner_email" ? "owner emailed" : "security team alerted",
    });
    if (moved) return;
  }
}
