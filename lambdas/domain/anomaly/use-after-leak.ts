import { MINUTE_MS, type Severity } from "./anomaly.js";

/** What the key registry says about a key the logs mention (looked up by keyId). */
export interface KeyLeakStatus {
  status: "active" | "compromised" | "revoked";
  projectId?: string;
  /** ISO time the key was quarantined. */
  compromisedAt?: string;
  incidentId?: string;
  revokedAt?: string;
}

function minuteOf(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? undefined : Math.floor(at / MINUTE_MS);
}

/** Epoch minute from which use of the key is use after a leak (or after revocation). */
export function leakMinute(key: KeyLeakStatus): number | undefined {
  if (key.status === "compromised") return minuteOf(key.compromisedAt) ?? Number.NEGATIVE_INFINITY;
  if (key.status === "revoked") return minuteOf(key.revokedAt) ?? Number.NEGATIVE_INFINITY;
  return undefined;
}

/**
 * use_after_leak, for one request at `minute` from a network the owner did (`ownersNetwork`) or
 * did not use before the leak. Compromised: the owner's own network is `medium` (a deployment not
 * yet rotated), anyone else `high`. Revoked: the owner's network is `low` (a forgotten job),
 * a network the owner never used `medium` (someone tries a key found somewhere).
 */
export function detectUseAfterLeak(
  key: KeyLeakStatus,
  minute: number,
  ownersNetwork: boolean,
): Severity | undefined {
  const from = leakMinute(key);
  if (from === undefined || minute < from) return undefined;
  if (key.status === "compromised") return ownersNetwork ? "medium" : "high";
  return ownersNetwork ? "low" : "medium";
}
