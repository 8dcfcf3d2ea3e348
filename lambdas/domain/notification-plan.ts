import type { Incident, Occurrence } from "./incident.js";

/** What one notification is about; with the incident id and opening it is the idempotency key. */
export type NotificationKind = "owner_email" | "security_alert" | "key_event" | "report_received";

export interface PlannedNotification {
  kind: NotificationKind;
  incidentId: string;
  opening: number;
  /** `report_received`: the occurrence's fingerprint (which occurrence the alert describes). */
  discriminator?: string;
  /** `report_received`: the report's id, the alert's identity (one per report, whichever key comes first). */
  reportId?: string;
}

/** One change of the incidents table, as the stream delivers it (images already validated). */
export type IncidentChange =
  | { entity: "incident"; before?: Incident; after?: Incident }
  | { entity: "occurrence"; before?: Occurrence; after?: Occurrence }
  | { entity: "other" };

/**
 * The idempotency key of a notification: (incident, kind, opening). A report alert's is the
 * report's id alone, so a report naming many keys alerts once, not once per key.
 */
export function notificationId(n: PlannedNotification): string {
  if (n.kind === "report_received" && n.reportId) return `NOTIFY#REPORT#${n.reportId}#report_received`;
  return `NOTIFY#${n.incidentId}#${n.kind}#${n.opening}${n.discriminator ? `#${n.discriminator}` : ""}`;
}

/**
 * Which notifications a change calls for. A leaked key's opening (first or regression reopen)
 * calls for the owner email, the security alert and the key event. An unknown key's opening calls
 * for nothing here: unknown keys are anyone's to mint, so they reach the team as one digest per
 * source and window (unknown-key-digest.ts). An occurrence carrying a report id (recordFindings
 * sets it only for registered keys) calls for the report's one `report_received` alert.
 * Counter updates call for nothing.
 */
export function planNotifications(change: IncidentChange): PlannedNotification[] {
  if (change.entity === "incident") {
    const { before, after } = change;
    if (after?.state !== "open") return [];
    if (before && before.opening === after.opening) return [];
    if (after.kind === "unknown_key") return [];
    const base = { incidentId: after.incidentId, opening: after.opening };
    return [
      { kind: "owner_email", ...base },
      { kind: "security_alert", ...base },
      { kind: "key_event", ...base },
    ];
  }
  if (change.entity === "occurrence") {
    const { before, after } = change;
    if (before || !after?.reportId) return [];
    return [
      {
        kind: "report_received",
        incidentId: after.incidentId,
        opening: after.opening,
        discriminator: after.fingerprint,
        reportId: after.reportId,
      },
    ];
  }
  return [];
}
