import type { Incident, Occurrence } from "./incident.js";

/** What one notification is about; with the incident id and opening it is the idempotency key. */
export type NotificationKind = "owner_email" | "security_alert" | "key_event" | "report_received";

export interface PlannedNotification {
  kind: NotificationKind;
  incidentId: string;
  opening: number;
  /** Distinguishes several notifications of one kind in one opening (one per reported occurrence). */
  discriminator?: string;
}

/** One change of the incidents table, as the stream delivers it (images already validated). */
export type IncidentChange =
  | { entity: "incident"; before?: Incident; after?: Incident }
  | { entity: "occurrence"; before?: Occurrence; after?: Occurrence }
  | { entity: "other" };

/** The idempotency key of a notification: (incident, kind, opening[, discriminator]). */
export function notificationId(n: PlannedNotification): string {
  return `NOTIFY#${n.incidentId}#${n.kind}#${n.opening}${n.discriminator ? `#${n.discriminator}` : ""}`;
}

/**
 * Which notifications a change calls for. An incident's opening (first or regression reopen)
 * calls for the owner email (leaked keys only), the security alert and the key event; a new
 * occurrence from a user report calls for a `report_received` alert. Counter updates call for nothing.
 */
export function planNotifications(change: IncidentChange): PlannedNotification[] {
  if (change.entity === "incident") {
    const { before, after } = change;
    if (after?.state !== "open") return [];
    if (before && before.opening === after.opening) return [];
    const base = { incidentId: after.incidentId, opening: after.opening };
    if (after.kind === "unknown_key") return [{ kind: "security_alert", ...base }];
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
      },
    ];
  }
  return [];
}
