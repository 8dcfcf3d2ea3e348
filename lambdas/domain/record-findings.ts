import type { Clock } from "./clock.js";
import type { Finding, FindingOutcome } from "./finding.js";
import {
  type Incident,
  type IncidentKind,
  type IncidentRepository,
  incidentIdFor,
  locationFingerprint,
  type Occurrence,
  severityOf,
} from "./incident.js";
import { keyIdOf } from "./key-format.js";
import type { KeyRepository } from "./key-record.js";

export interface RecordFindingsDeps {
  keys: KeyRepository;
  incidents: IncidentRepository;
  clock: Clock;
}

/** Optimistic retries when a concurrent writer changed the incident; 20 racing channels need at most ~20. */
const MAX_ATTEMPTS = 40;

export class RecordFindingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RecordFindingError";
  }
}

/**
 * The one use case every detection channel calls: what a finding of a key means. A registered
 * key is quarantined and gets (or adds to) its one incident; an unknown key gets an
 * `unknown_key` record. Idempotent: replays and concurrent calls converge on one incident with
 * one occurrence per distinct location. Outcomes are in input order.
 */
export async function recordFindings(
  findings: Finding[],
  deps: RecordFindingsDeps,
): Promise<FindingOutcome[]> {
  const outcomes = new Array<FindingOutcome>(findings.length);
  // Findings of one key run in order (they share an incident); different keys run concurrently.
  const byKey = new Map<string, number[]>();
  findings.forEach((finding, index) => {
    const positions = byKey.get(finding.keyHash) ?? [];
    positions.push(index);
    byKey.set(finding.keyHash, positions);
  });
  await Promise.all(
    [...byKey.values()].map(async (positions) => {
      for (const index of positions) {
        outcomes[index] = await recordOne(findings[index] as Finding, deps);
      }
    }),
  );
  return outcomes;
}

async function recordOne(finding: Finding, deps: RecordFindingsDeps): Promise<FindingOutcome> {
  const now = deps.clock.now().toISOString();
  const incidentId = incidentIdFor(finding.keyHash);
  const key = await deps.keys.get(finding.keyHash);
  const kind: IncidentKind = key ? "leaked_key" : "unknown_key";
  const status = key ? "registered" : "unknown";
  // Quarantine before the incident exists, so the owner's email can truthfully say it is done.
  if (key?.status === "active") await deps.keys.quarantine(finding.keyHash, incidentId, now);
  const actor = `system:${finding.source}`;
  const occurrenceOf = (opening: number): Occurrence => ({
    incidentId,
    fingerprint: locationFingerprint(finding.location, finding.source, finding.reportId),
    source: finding.source,
    location: finding.location,
    seenAt: finding.seenAt,
    recordedAt: now,
    opening,
    ...(finding.reportId ? { reportId: finding.reportId } : {}),
  });

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await deps.incidents.get(incidentId);
    if (!current) {
      const incident: Incident = {
        incidentId,
        kind,
        keyHash: finding.keyHash,
        keyId: keyIdOf(finding.keyHash),
        redacted: key?.redacted ?? finding.redacted,
        ...(key ? { projectId: key.projectId } : {}),
        state: "open",
        severity: severityOf(kind),
        opening: 1,
        sources: [finding.source],
        occurrenceCount: 1,
        openedAt: now,
        updatedAt: now,
        lastSeenAt: finding.seenAt,
        version: 1,
      };
      const opened = await deps.incidents.open(incident, occurrenceOf(1), {
        incidentId,
        at: now,
        action: "opened",
        to: "open",
        actor,
        detail: kind,
      });
      if (opened === "opened") return { keyHash: finding.keyHash, status, incidentId, newOccurrence: true };
      await backoff(attempt);
      continue;
    }
    // A new place after `resolved` is a regression: reopen and notify again.
    const reopen = current.state === "resolved";
    const result = await deps.incidents.addOccurrence(
      current,
      occurrenceOf(reopen ? current.opening + 1 : current.opening),
      reopen
        ? {
            audit: {
              incidentId,
              at: now,
              action: "reopened",
              from: "resolved",
              to: "open",
              actor,
              detail: "seen at a new location after resolution",
            },
          }
        : undefined,
    );
    if (result.outcome === "stale") {
      await backoff(attempt);
      continue;
    }
    return { keyHash: finding.keyHash, status, incidentId, newOccurrence: result.outcome === "added" };
  }
  throw new RecordFindingError(
    `incident ${incidentId}: too much contention, gave up after ${MAX_ATTEMPTS} attempts`,
  );
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(200, 5 * 2 ** Math.min(attempt, 6)) * Math.random();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
