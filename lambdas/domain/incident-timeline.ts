import type { Incident, Occurrence } from "./incident.js";
import type { QueueAuditEntry } from "./incident-queue.js";
import { type NotificationKind, notificationId } from "./notification-plan.js";

/** A notification the notifier owes an incident, and whether the ledger says it went out. */
export interface NotificationRecord {
  kind: NotificationKind;
  opening: number;
  /** Who it goes to, in words (never an address). */
  to: string;
  status: "sent" | "sending" | "not_sent";
  at?: string;
}

export interface TimelineEntry {
  at: string;
  kind: "detection" | "notification" | "action" | "comment";
  /** One sentence for a person; no internal names. */
  text: string;
  actor?: string;
  reason?: string;
}

const SOURCE_WORDS: Record<string, string> = {
  github_partner: "GitHub secret scanning",
  github_event: "the GitHub events poller",
  github_code_search: "the GitHub code search sweep",
  user_report: "a report from the public form",
};

const RECIPIENT: Record<NotificationKind, (incident: Incident) => string> = {
  owner_email: (i) => `the key's owner (project ${i.projectId ?? "unknown"}), by email`,
  security_alert: () => "the security team, by alert",
  key_event: (i) => `project ${i.projectId ?? "unknown"}'s key-event subscribers`,
  report_received: () => "the security team (report received alert)",
};

/** Every notification the incident's openings and reports call for, with its ledger id. */
export function expectedNotifications(
  incident: Incident,
  occurrences: Occurrence[],
): { id: string; kind: NotificationKind; opening: number; to: string }[] {
  const expected: { id: string; kind: NotificationKind; opening: number; to: string }[] = [];
  for (let opening = 1; opening <= incident.opening; opening++) {
    const kinds: NotificationKind[] =
      incident.kind === "unknown_key" ? ["security_alert"] : ["owner_email", "security_alert", "key_event"];
    for (const kind of kinds)
      expected.push({
        id: notificationId({ kind, incidentId: incident.incidentId, opening }),
        kind,
        opening,
        to: RECIPIENT[kind](incident),
      });
  }
  for (const occurrence of occurrences) {
    if (!occurrence.reportId) continue;
    const planned = {
      kind: "report_received" as const,
      incidentId: incident.incidentId,
      opening: occurrence.opening,
      discriminator: occurrence.fingerprint,
    };
    expected.push({
      id: notificationId(planned),
      kind: planned.kind,
      opening: planned.opening,
      to: RECIPIENT.report_received(incident),
    });
  }
  return expected;
}

function where(occurrence: Occurrence): string {
  const { location } = occurrence;
  if (location.repo && location.path)
    return `${location.repo}:${location.path}${location.line ? `:${location.line}` : ""}`;
  if (location.url) return location.url;
  if (location.repo) return location.repo;
  return occurrence.source === "user_report" ? "a report (no address given)" : "an unknown place";
}

const ACTION_WORDS: Record<string, string> = {
  opened: "Incident opened",
  reopened: "Reopened: the key was seen again after it was resolved",
  notified: "Marked notified",
  acknowledged: "Acknowledged",
  resolved: "Resolved",
  false_positive: "Marked false positive",
  reopen: "Reopened",
  assigned: "Assigned",
  commented: "Comment",
  key_revoked: "Key revoked",
};

/** Detections, notifications and people's actions in one list, oldest first, in plain words. */
export function incidentTimeline(
  occurrences: Occurrence[],
  audit: QueueAuditEntry[],
  notifications: NotificationRecord[],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  for (const occurrence of occurrences)
    entries.push({
      at: occurrence.seenAt,
      kind: "detection",
      text: `Seen by ${SOURCE_WORDS[occurrence.source] ?? occurrence.source} at ${where(occurrence)}`,
    });
  for (const notification of notifications)
    if (notification.at)
      entries.push({
        at: notification.at,
        kind: "notification",
        text: `${notification.status === "sent" ? "Sent to" : "Sending to"} ${notification.to}`,
      });
  for (const entry of audit) {
    // The notifier's "notified" move duplicates the notification lines above.
    if (entry.action === "notified") continue;
    let text = ACTION_WORDS[entry.action] ?? entry.action;
    if (entry.action === "assigned") text = entry.assignee ? `Assigned to ${entry.assignee}` : "Unassigned";
    else if (entry.action === "commented") text = entry.comment ?? "";
    else if (entry.from && entry.to && entry.action !== "opened")
      text = `${text} (${entry.from} → ${entry.to})`;
    entries.push({
      at: entry.at,
      kind: entry.action === "commented" ? "comment" : "action",
      text,
      actor: entry.actor,
      ...(entry.reason ? { reason: entry.reason } : {}),
    });
  }
  return entries.sort((a, b) => a.at.localeCompare(b.at));
}
