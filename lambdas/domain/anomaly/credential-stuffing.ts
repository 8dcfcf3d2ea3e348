import type { Severity } from "./anomaly.js";
import type { AnomalyThresholds } from "./thresholds.js";

/** Statuses the key authorizer answers an unknown, invalid, compromised or revoked key with. */
export function isAuthFailure(status: number | undefined): boolean {
  return status === 401 || status === 403;
}

/**
 * credential_stuffing: one client network presented `after` distinct keys that were refused
 * (401/403) within the window; `before` is what the window held before this batch. Fires once
 * per threshold crossed, so later batches of the same burst don't repeat the anomaly.
 */
export function detectCredentialStuffing(
  before: number,
  after: number,
  thresholds: AnomalyThresholds,
): Severity | undefined {
  const t = thresholds.credentialStuffing;
  if (before < t.highDistinctKeys && after >= t.highDistinctKeys) return "high";
  if (before < t.minDistinctKeys && after >= t.minDistinctKeys) return "medium";
  return undefined;
}

/** Epoch minute the stuffing window containing `minute` starts at. */
export function stuffingWindowStart(minute: number, thresholds: AnomalyThresholds): number {
  const size = thresholds.credentialStuffing.windowMinutes;
  return minute - (minute % size);
}
