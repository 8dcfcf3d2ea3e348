import type { Clock } from "./clock.js";
import type { Finding, FindingOutcome, FindingSource } from "./finding.js";
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
import type { KeyRecord, KeyRepository } from "./key-record.js";
import type { UnknownKeySightings } from "./unknown-key-digest.js";

/** What recordFindings needs of a registered key. */
export type RegisteredKey = Pick<KeyRecord, "keyHash" | "status" | "projectId" | "redacted">;

/**
 * Reads a chunk's keys and incidents in a few batched calls instead of two reads per key: under a
 * flood the reads, not the writes, were most of the calls. Optional: without it, one read each.
 */
export interface ChunkLookup {
  lookup(
    keyHashes: string[],
  ): Promise<{ keys: Map<string, RegisteredKey>; incidents: Map<string, Incident> }>;
}

export interface RecordFindingsDeps {
  keys: KeyRepository;
  incidents: IncidentRepository;
  lookup?: ChunkLookup;
  /** Where unknown keys are noted for the digest, before their incidents are written. */
  unknownKeys: UnknownKeySightings;
  clock: Clock;
}

export interface RecordFindingsOptions {
  /** Asked before each chunk: true stops the call with RecordFindingsInterruptedError (e.g. near a deadline). */
  shouldStop?: () => boolean;
}

/** Optimistic retries when a concurrent writer changed the incident; 20 racing channels need at most ~20. */
const MAX_ATTEMPTS = 40;
/** Distinct keys per chunk: a chunk's unknown keys are noted in one write per source. */
export const RECORD_CHUNK_KEYS = 100;
/** Keys recorded at once: enough to hide DynamoDB latency, few enough not to exhaust sockets or throttle. */
export const RECORD_CONCURRENCY = 16;

export class RecordFindingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RecordFindingError";
  }
}

/** The caller asked to stop (shouldStop); the findings of `recordedKeys` keys are fully recorded. */
export class RecordFindingsInterruptedError extends Error {
  constructor(
    readonly recordedKeys: number,
    readonly totalKeys: number,
  ) {
    super(`stopped after recording ${recordedKeys} of ${totalKeys} keys; the rest can be sent again`);
    this.name = "RecordFindingsInterruptedError";
  }
}

/**
 * The one use case every detection channel calls: what a finding of a key means. A registered
 * key is quarantined and gets (or adds to) its one incident; an unknown key is noted for the
 * digest, then gets an `unknown_key` record. Idempotent: replays and concurrent calls converge on
 * one incident with one occurrence per distinct location. Any number of findings is handled in
 * chunks of RECORD_CHUNK_KEYS keys, at most RECORD_CONCURRENCY at once. Outcomes are in input order.
 */
export async function recordFindings(
  findings: Finding[],
  deps: RecordFindingsDeps,
  options: RecordFindingsOptions = {},
): Promise<FindingOutcome[]> {
  const outcomes = new Array<FindingOutcome>(findings.length);
  // Findings of one key run in order (they share an incident); different keys run concurrently.
  const byKey = new Map<string, number[]>();
  findings.forEach((finding, index) => {
    const positions = byKey.get(finding.keyHash) ?? [];
    positions.push(index);
    byKey.set(finding.keyHash, positions);
  });
  // Every key is looked up first (batched reads are cheap next to the writes), so registered keys
  // can go first: if the caller stops early (a deadline), the keys that matter are already done.
  const entries = [...byKey.entries()];
  const registry: Array<RegisteredKey | undefined> = [];
  // With a batched lookup the incidents are known too (absent = none yet); without one, read per key later.
  const incidents = deps.lookup ? new Map<string, Incident>() : undefined;
  for (let from = 0; from < entries.length; from += RECORD_CHUNK_KEYS) {
    const part = await lookUp(
      entries.slice(from, from + RECORD_CHUNK_KEYS).map(([hash]) => hash),
      deps,
    );
    registry.push(...part.registry);
    for (const [hash, incident] of part.incidents ?? []) incidents?.set(hash, incident);
  }
  const groups = entries
    .map(([hash, positions], i) => ({ hash, positions, key: registry[i] }))
    // Stable sort: registered keys first, each side in order of appearance.
    .sort((a, b) => Number(!a.key) - Number(!b.key));
  for (let from = 0; from < groups.length; from += RECORD_CHUNK_KEYS) {
    if (options.shouldStop?.()) throw new RecordFindingsInterruptedError(from, groups.length);
    const chunk = groups.slice(from, from + RECORD_CHUNK_KEYS);
    // Only keys first seen now go into the digest: a replay or a GitHub retry must not alert again.
    await noteUnknownKeys(
      chunk
        .filter(({ hash, key }) => !key && !incidents?.has(hash))
        .flatMap(({ positions }) => positions.map((p) => findings[p] as Finding)),
      deps,
    );
    await inPool(chunk, async ({ hash, positions, key: registered }) => {
      let key = registered;
      let known: Incident | null | undefined = incidents ? (incidents.get(hash) ?? null) : undefined;
      for (const index of positions) {
        outcomes[index] = await recordOne(findings[index] as Finding, key, known, deps);
        // Later findings of the same key read the incident afresh (this one changed it).
        known = undefined;
        // Quarantined by the first finding: later ones of the same key don't try again.
        if (key?.status === "active") key = { ...key, status: "compromised" };
      }
    });
  }
  return outcomes;
}

async function lookUp(
  hashes: string[],
  deps: RecordFindingsDeps,
): Promise<{ registry: Array<RegisteredKey | undefined>; incidents?: Map<string, Incident> }> {
  if (!deps.lookup) return { registry: await inPool(hashes, (hash) => deps.keys.get(hash)) };
  const found = await deps.lookup.lookup(hashes);
  return { registry: hashes.map((hash) => found.keys.get(hash)), incidents: found.incidents };
}

/** Write-ahead: every unknown key is in a digest window before its incident exists, so a crash loses no alert. */
async function noteUnknownKeys(unknown: Finding[], deps: RecordFindingsDeps): Promise<void> {
  const bySource = new Map<FindingSource, { keyHashes: Set<string>; reportIds: Set<string> }>();
  for (const finding of unknown) {
    const sighting = bySource.get(finding.source) ?? { keyHashes: new Set(), reportIds: new Set() };
    sighting.keyHashes.add(finding.keyHash);
    if (finding.reportId) sighting.reportIds.add(finding.reportId);
    bySource.set(finding.source, sighting);
  }
  const now = deps.clock.now();
  await Promise.all(
    [...bySource].map(([source, sighting]) =>
      deps.unknownKeys.note(source, now, {
        keyHashes: [...sighting.keyHashes],
        reportIds: [...sighting.reportIds],
      }),
    ),
  );
}

/** Runs `task` over `items` with at most RECORD_CONCURRENCY in flight; results in input order. */
async function inPool<T, R>(items: readonly T[], task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(RECORD_CONCURRENCY, items.length) }, worker));
  return results;
}

/**
 * Whether a new location reopens a resolved incident. A user report does not: its URL is
 * whatever the reporter typed, so a report alone must never email an owner again (issue 13).
 * The report stays in the reports table; the resolved incident is left untouched (the incidents
 * adapter only adds occurrences to a resolved incident by reopening it). A GitHub channel's
 * location is public content GitHub itself served, so it reopens.
 */
export function reopensResolved(source: FindingSource): boolean {
  return source !== "user_report";
}

async function recordOne(
  finding: Finding,
  key: RegisteredKey | undefined,
  /** The incident as a batched read saw it, null if it had none (attempt 0 only; stale just costs a retry). */
  prefetched: Incident | null | undefined,
  deps: RecordFindingsDeps,
): Promise<FindingOutcome> {
  const now = deps.clock.now().toISOString();
  const incidentId = incidentIdFor(finding.keyHash);
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
    // Only a registered key's occurrence carries the report: it is what calls for the report alert.
    ...(finding.reportId && key ? { reportId: finding.reportId } : {}),
  });

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current =
      attempt === 0 && prefetched !== undefined
        ? (prefetched ?? undefined)
        : await deps.incidents.get(incidentId);
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
    if (current.state === "resolved" && !reopensResolved(finding.source)) {
      // The report itself is kept in the reports table; the resolved incident is left as it is.
      return { keyHash: finding.keyHash, status, incidentId, newOccurrence: false };
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
