import { MINUTE_MS, type Severity } from "./anomaly.js";
import type { AnomalyThresholds } from "./thresholds.js";

/** What the key registry says about a key the logs mention (looked up by keyId). */
export interface KeyLeakStatus {
  status: "active" | "compromised" | "revoked";
  projectId?: string;
  /** ISO time the key was quarantined. */
  compromisedAt?: string;
  incidentId?: string;
  revokedAt?: string;
}

/**
 * use_after_leak: any request with a compromised or revoked key. Compromised is `medium`, and
 * `high` when a network never seen for the key uses it within `newPrefixHours` of the leak
 * (someone else picked it up); a revoked key still in use is `low` (a forgotten deployment).
 */
export function detectUseAfterLeak(
  key: KeyLeakStatus,
  minute: number,
  fromNewPrefix: boolean,
  thresholds: AnomalyThresholds,
): Severity | undefined {
  if (key.status === "revoked") {
    const revoked = key.revokedAt ? Math.floor(Date.parse(key.revokedAt) / MINUTE_MS) : undefined;
    return revoked !== undefined && minute < revoked ? undefined : "low";
  }
  if (key.status !== "compromised") return undefined;
  const leak = leakMinute(key);
  // A replayed log from before the quarantine is ordinary use.
  if (leak !== undefined && minute < leak) return undefined;
  const leakedAt = key.compromisedAt ? Date.parse(key.compromisedAt) : Number.NaN;
  const hoursSince = (minute * MINUTE_MS - leakedAt) / 3_600_000;
  const soon = Number.isNaN(leakedAt) || hoursSince <= thresholds.useAfterLeak.newPrefixHours;
  return fromNewPrefix && soon ? "high" : "medium";
}

/** Epoch minute of the leak, for "was this network seen before the leak?". */
export function leakMinute(key: KeyLeakStatus): number | undefined {
  if (!key.compromisedAt) return undefined;
  const at = Date.parse(key.compromisedAt);
  return Number.isNaN(at) ? undefined : Math.floor(at / MINUTE_MS);
}
