import type { Incident, Occurrence } from "./incident.js";
import type { DigestExample, UnknownKeyWindow } from "./unknown-key-digest.js";

export type AlertKind =
  | "incident_opened"
  | "incident_reopened"
  | "unknown_key"
  | "unknown_key_digest"
  | "report_received";

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

/** What every alert about an incident says of it (redacted key only, never the key). */
function incidentFacts(incident: Incident) {
  return {
    incidentId: incident.incidentId,
    severity: incident.severity,
    redacted: incident.redacted,
    keyId: incident.keyId,
    projectId: incident.projectId ?? null,
    sources: incident.sources,
    occurrenceCount: incident.occurrenceCount,
  };
}

/** The security team's alert for an incident opening: ids, redacted key, counts; never a raw key or an email. */
export function securityAlert(incident: Incident): Alert {
  const kind = alertKindOf(incident);
  return {
    topic: "security",
    message: {
      kind,
      ...incidentFacts(incident),
      opening: incident.opening,
      state: incident.state,
      openedAt: incident.openedAt,
    },
    attributes: { severity: incident.severity, source: incident.sources, kind },
  };
}

/**
 * A user report that named at least one registered key: one alert per report (the notifier's
 * ledger id is the report's), describing the first of its keys to reach the notifier; the
 * report's other keys have their own incidents. The description only if the form kept it.
 */
export function reportReceivedAlert(incident: Incident, occurrence: Occurrence, description?: string): Alert {
  return {
    topic: "security",
    message: {
      kind: "report_received",
      ...incidentFacts(incident),
      reportId: occurrence.reportId,
      scope: "report",
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

/**
 * The one alert a window of unknown keys from one source gets: counts, the reports behind them
 * and a few examples (redacted keys, incident ids to open in the console). Never a raw key.
 */
export function unknownKeyDigestAlert(window: UnknownKeyWindow, examples: DigestExample[]): Alert {
  return {
    topic: "security",
    message: {
      kind: "unknown_key_digest",
      severity: "medium",
      source: window.source,
      windowStart: window.windowStart,
      windowEnd: window.windowEnd,
      distinctKeys: window.keyHashes.length,
      ...(window.uncountedFindings > 0 ? { moreFindingsNotDeduplicated: window.uncountedFindings } : {}),
      ...(window.reportIds.length > 0 ? { reportIds: window.reportIds } : {}),
      examples,
      note: "Valid-format keys that are not in our registry. Each is recorded as an unknown_key incident (keywatch incidents list --unknown).",
    },
    attributes: { severity: "medium", source: [window.source], kind: "unknown_key_digest" },
  };
}
