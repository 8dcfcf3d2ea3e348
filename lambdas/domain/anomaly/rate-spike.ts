import type { Severity } from "./anomaly.js";
import { type Ewma, zScore } from "./ewma.js";
import type { AnomalyThresholds } from "./thresholds.js";

/**
 * rate_spike: a key's requests in one minute against the EWMA baseline of its per-minute
 * counts. Fires only after warm-up, above an absolute floor, a z-score and a ratio to the mean.
 */
export function detectRateSpike(
  baseline: Ewma,
  requests: number,
  thresholds: AnomalyThresholds,
): Severity | undefined {
  const t = thresholds.rateSpike;
  if (baseline.n < thresholds.warmupMinutes || requests < t.minRequests) return undefined;
  const z = zScore(baseline, requests);
  const ratio = requests / Math.max(baseline.mean, 1);
  if (z >= t.zHigh && ratio >= t.ratioHigh) return "high";
  if (z >= t.zMedium && ratio >= t.ratioMedium) return "medium";
  return undefined;
}
