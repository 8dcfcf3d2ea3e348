import type { Incident, Occurrence } from "./incident.js";

export type AlertKind = "incident_opened" | "incident_reopened" | "unknown_key" | "report_received";

export interface Alert {
  topic: "security" | "key-events";
  message: Record<string, unknown>;
  /** SNS message attributes; arrays become `String.Array` (filter policies match any element). */
  attributes: Record<string, string | string[]>;
}

function alertKindOf(incident: Incident): AlertKind {
  if (incident.kind === "unknown_key") return "unknown_key";
  return incident.opening > 1 ? "incident_reopened" : "incident_opened";
}

/** The security team's alert for an incident opening: ids, redacted key, counts; never a raw key or an email. */
export function securityAlert(incident: Incident): Alert {
  const kind = alertKindOf(incident);
  return {
    topic: "security",
    message: {
      kind,
      incidentId: incident.incidentId,
      severity: incident.severity,
      redacted: incident.redacted,
      keyId: incident.keyId,
      projectId: incident.projectId ?? null,
      sources: incident.sources,
      occurrenceCount: incident.occurrenceCount,
      opening: incident.opening,
      state: incident.state,
      openedAt: incident.openedAt,
    },
    attributes: { severity: incident.severity, source: incident.sources, kind },
  };
}

/** A new occurrence that came from a user report; the report's description only if the form kept it. */
export function reportReceivedAlert(incident: Incident, occurrence: Occurrence, description?: string): Alert {
  return {
    topic: "security",
    message: {
      kind: "report_received",
      incidentId: incident.incidentId,
      severity: incident.severity,
      redacted: incident.redacted,
      keyId: incident.keyId,
      projectId: incident.projectId ?? null,
      sources: incident.sources,
      occurrenceCount: incident.occurrenceCount,
      reportId: occurrence.reportId,
      ...(description ? { description } : {}),
      location: occurrence.location,
    },
    attributes: { severity: incident.severity, source: [occurrence.source], kind: "report_received" },
  };
}

/** What owners' own systems receive (key-events topic), filterable by `projectId`. */
export function keyEvent(incident: Incident): Alert {
  return {
    topic: "key-events",
    message: {
      kind: "key_compromised",
      incidentId: incident.incidentId,
      projectId: incident.projectId ?? null,
      keyId: incident.keyId,
      redacted: incident.redacted,
      status: "compromised",
      opening: incident.opening,
      sources: incident.sources,
    },
    attributes: { projectId: incident.projectId ?? "unknown", kind: "key_compromised" },
  };
}
