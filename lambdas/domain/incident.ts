import { createHash } from "node:crypto";
import type { FindingSource, Location } from "./finding.js";

export const INCIDENT_STATES = ["open", "notified", "acknowledged", "resolved", "false_positive"] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/** `leaked_key`: one of our keys (owner emailed, key quarantined); `unknown_key`: valid format, not ours. */
export type IncidentKind = "leaked_key" | "unknown_key";

export type Severity = "low" | "medium" | "high";

export interface Incident {
  incidentId: string;
  kind: IncidentKind;
  keyHash: string;
  keyId: string;
  redacted: string;
  projectId?: string;
  state: IncidentState;
  severity: Severity;
  /** 1 on first opening, +1 per regression reopen: notifications are idempotent per opening. */
  opening: number;
  sources: FindingSource[];
  occurrenceCount: number;
  openedAt: string;
  updatedAt: string;
  lastSeenAt: string;
  /** Bumped by every write of the incident item: optimistic concurrency for transitions. */
  version: number;
}

export interface Occurrence {
  incidentId: string;
  /** Location fingerprint: an occurrence is one distinct place a key was seen. */
  fingerprint: string;
  source: FindingSource;
  location: Location;
  seenAt: string;
  recordedAt: string;
  /** The opening this occurrence arrived in (a reopen's new location carries the new opening). */
  opening: number;
  reportId?: string;
}

export type AuditAction =
  | "opened"
  | "reopened"
  | "notified"
  | "acknowledged"
  | "resolved"
  | "false_positive"
  | "reopen";

export interface AuditEntry {
  incidentId: string;
  at: string;
  action: AuditAction;
  from?: IncidentState;
  to: IncidentState;
  /** Who or what caused it: `system:<channel>`, `notifier`, `user:<name>`. */
  actor: string;
  detail?: string;
}

export interface IncidentDetails {
  incident: Incident;
  occurrences: Occurrence[];
  audit: AuditEntry[];
}

export interface IncidentPage {
  incidents: Incident[];
  cursor?: string;
}

export interface IncidentQuery {
  kind?: IncidentKind;
  /** Omitted: every state, most recently updated first. */
  state?: IncidentState;
  limit?: number;
  cursor?: string;
}

/** Result of adding an occurrence to an existing incident. */
export type AddOccurrenceResult =
  /** A new location; `reopened` when it reopened a resolved incident. */
  | { outcome: "added"; reopened: boolean; opening: number }
  /** The location was already recorded. */
  | { outcome: "duplicate" }
  /** The incident changed under us (state or opening): read it again and retry. */
  | { outcome: "stale" };

/** The incidents port; the DynamoDB adapter implements it with conditional writes and transactions. */
export interface IncidentRepository {
  get(incidentId: string): Promise<Incident | undefined>;
  /** Creates incident + first occurrence + audit atomically; `exists` if the incident is already there. */
  open(incident: Incident, occurrence: Occurrence, audit: AuditEntry): Promise<"opened" | "exists">;
  /**
   * Records a location under an existing incident, atomically with the incident's counters;
   * with `reopen`, also moves it resolved → open (opening + 1), conditional on the state seen.
   */
  addOccurrence(
    current: Incident,
    occurrence: Occurrence,
    reopen?: { audit: AuditEntry },
  ): Promise<AddOccurrenceResult>;
  /** Moves the incident from `current.state` to `to` if nothing changed since it was read. */
  transition(current: Incident, to: IncidentState, audit: AuditEntry): Promise<boolean>;
  details(incidentId: string): Promise<IncidentDetails | undefined>;
  list(query?: IncidentQuery): Promise<IncidentPage>;
}

/** Allowed moves for people acting on an incident (the console, the CLI). */
export const TRANSITIONS: Record<
  "acknowledge" | "resolve" | "false_positive" | "reopen",
  { from: readonly IncidentState[]; to: IncidentState; audit: AuditAction }
> = {
  acknowledge: { from: ["open", "notified"], to: "acknowledged", audit: "acknowledged" },
  resolve: { from: ["open", "notified", "acknowledged"], to: "resolved", audit: "resolved" },
  false_positive: {
    from: ["open", "notified", "acknowledged"],
    to: "false_positive",
    audit: "false_positive",
  },
  // Reopen is work to do again: back to `open`, keeping the opening so nothing is sent twice.
  reopen: { from: ["resolved", "false_positive"], to: "open", audit: "reopen" },
};
export type TransitionAction = keyof typeof TRANSITIONS;

/** One incident per key: its id is derived from the key hash, so concurrent openers agree on it. */
export function incidentIdFor(keyHash: string): string {
  return `inc_${createHash("sha256").update(`incident:${keyHash}`).digest("hex").slice(0, 20)}`;
}

/**
 * A location's identity. Channels describe the same place differently (the partner program
 * gives a URL, the poller repo/commit/path), so repo + commit + path wins over the URL, and
 * line numbers are ignored (they shift between channels for the same file).
 */
export function locationFingerprint(location: Location, source: FindingSource, reportId?: string): string {
  let identity: string;
  if (location.repo && location.path) {
    identity = `file:${location.repo.toLowerCase()}@${location.commit?.toLowerCase() ?? ""}:${location.path}`;
  } else if (location.url) {
    const url = new URL(location.url);
    url.hash = "";
    identity = `url:${url.toString()}`;
  } else if (reportId) {
    identity = `report:${reportId}`;
  } else if (location.repo) {
    identity = `repo:${location.repo.toLowerCase()}@${location.commit?.toLowerCase() ?? ""}`;
  } else {
    identity = `source:${source}`;
  }
  return createHash("sha256").update(identity).digest("hex").slice(0, 32);
}

/** A leaked key of ours is quarantined and its owner emailed: high; an unknown key: medium. */
export function severityOf(kind: IncidentKind): Severity {
  return kind === "leaked_key" ? "high" : "medium";
}
