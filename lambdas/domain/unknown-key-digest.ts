import type { Clock } from "./clock.js";
import type { FindingSource } from "./finding.js";
import { type IncidentRepository, incidentIdFor } from "./incident.js";
import type { NotificationLedger } from "./notify-incident.js";
import { type Alert, unknownKeyDigestAlert } from "./security-alert.js";

/**
 * Unknown keys (valid checksum, not in our registry) are anyone's to mint, so they never alert
 * one by one: each is still recorded (an `unknown_key` incident with its occurrences, for
 * triage), and the security team gets at most one digest per source per window.
 */
export const DIGEST_WINDOW_MS = 15 * 60 * 1000;
/** A window is sealed and sent this long after it ends, so findings recorded at its very end are in it. */
export const DIGEST_GRACE_MS = 60 * 1000;
/** Distinct key hashes a window keeps (≈ 140 KB of a 400 KB item); more are counted, not kept. */
export const MAX_WINDOW_KEYS = 2_000;
/** Report ids a window keeps, so the team can open the reports behind a flood. */
export const MAX_WINDOW_REPORTS = 50;
/** Examples a digest describes (incident id, redacted key, where). */
export const DIGEST_EXAMPLES = 10;

export function windowStartOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DIGEST_WINDOW_MS) * DIGEST_WINDOW_MS);
}

/** What a window holds when its digest is sent. */
export interface UnknownKeyWindow {
  source: FindingSource;
  /** ISO start (inclusive) and end (exclusive). */
  windowStart: string;
  windowEnd: string;
  /** Distinct unknown keys first seen in the window (no incident yet), up to MAX_WINDOW_KEYS (sorted). */
  keyHashes: string[];
  /** Findings that arrived after the window's key set was full: counted, not deduplicated. */
  uncountedFindings: number;
  reportIds: string[];
}

/** Write side, called by recordFindings before it writes the incidents (write-ahead). */
export interface UnknownKeySightings {
  /**
   * Notes unknown keys seen from `source` at `at`, in the window of `at` (or a later one if that
   * window was already sealed). Idempotent per key: a retried finding adds nothing.
   */
  note(
    source: FindingSource,
    at: Date,
    sighting: { keyHashes: string[]; reportIds: string[] },
  ): Promise<void>;
}

/** Read side, for the scheduled digest sender. */
export interface UnknownKeyWindowStore {
  /** Windows not yet alerted that ended before `endedBefore`, oldest first. */
  pending(endedBefore: Date, limit: number): Promise<Array<{ source: FindingSource; windowStart: string }>>;
  /** Stops further writes to the window and returns its content (idempotent). */
  seal(source: FindingSource, windowStart: string, at: Date): Promise<UnknownKeyWindow | undefined>;
  /** Takes the window out of the pending list. */
  markAlerted(source: FindingSource, windowStart: string, at: Date): Promise<void>;
}

export interface DigestDeps {
  windows: UnknownKeyWindowStore;
  incidents: Pick<IncidentRepository, "get">;
  ledger: NotificationLedger;
  publish(alert: Alert): Promise<void>;
  clock: Clock;
}

export interface DigestRunResult {
  sent: number;
  alreadySent: number;
  inFlight: number;
}

/** Windows a run handles at most (a backlog after an outage drains over a few runs). */
const WINDOWS_PER_RUN = 100;

/** The ledger id of a window's digest: the same window never alerts twice. */
export function digestNotificationId(source: FindingSource, windowStart: string): string {
  return `NOTIFY#UNKNOWN_KEYS#${source}#${windowStart}`;
}

/**
 * Sends one digest per closed window that has unknown keys: seal (no more writes land in it),
 * claim it in the notification ledger, describe a few examples, publish, mark sent. A crash at
 * any step leaves the window pending and the next run finishes it; the ledger makes a second
 * publish impossible unless the first attempt's lease ran out mid-send (at least once).
 */
export async function sendUnknownKeyDigests(deps: DigestDeps): Promise<DigestRunResult> {
  const now = deps.clock.now();
  const result: DigestRunResult = { sent: 0, alreadySent: 0, inFlight: 0 };
  const closed = await deps.windows.pending(new Date(now.getTime() - DIGEST_GRACE_MS), WINDOWS_PER_RUN);
  for (const { source, windowStart } of closed) {
    const window = await deps.windows.seal(source, windowStart, now);
    if (!window) continue;
    const id = digestNotificationId(source, windowStart);
    const claim = await deps.ledger.claim(id, now.toISOString());
    if (claim === "in_flight") {
      result.inFlight++;
      continue;
    }
    if (claim === "sent") {
      result.alreadySent++;
    } else {
      try {
        await deps.publish(unknownKeyDigestAlert(window, await examplesOf(window, deps)));
      } catch (error) {
        await deps.ledger.release(id);
        throw error;
      }
      await deps.ledger.markSent(id, deps.clock.now().toISOString());
      result.sent++;
    }
    await deps.windows.markAlerted(source, windowStart, deps.clock.now());
  }
  return result;
}

export interface DigestExample {
  incidentId: string;
  redacted: string;
  keyId: string;
  occurrenceCount: number;
}

async function examplesOf(window: UnknownKeyWindow, deps: DigestDeps): Promise<DigestExample[]> {
  const examples: DigestExample[] = [];
  for (const hash of window.keyHashes.slice(0, DIGEST_EXAMPLES)) {
    const incident = await deps.incidents.get(incidentIdFor(hash));
    // Noted write-ahead: the incident may not exist if its write never succeeded; still counted.
    if (!incident) continue;
    examples.push({
      incidentId: incident.incidentId,
      redacted: incident.redacted,
      keyId: incident.keyId,
      occurrenceCount: incident.occurrenceCount,
    });
  }
  return examples;
}
