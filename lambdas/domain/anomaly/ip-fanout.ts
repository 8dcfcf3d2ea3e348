import type { Severity } from "./anomaly.js";
import { type Ewma, zScore } from "./ewma.js";
import type { AnomalyThresholds } from "./thresholds.js";

/**
 * ip_fanout: distinct client networks (/24, /48) using a key in one minute against the EWMA
 * baseline of that count, so a mobile app's key with many networks has a higher bar than a server's.
 */
export function detectIpFanout(
  baseline: Ewma,
  distinctPrefixes: number,
  thresholds: AnomalyThresholds,
): Severity | undefined {
  const t = thresholds.ipFanout;
  if (baseline.n < thresholds.warmupMinutes || distinctPrefixes < t.minPrefixes) return undefined;
  const z = zScore(baseline, distinctPrefixes);
  if (z < t.zMedium || distinctPrefixes < t.ratioMedium * Math.max(baseline.mean, 1)) return undefined;
  return z >= t.zHigh && distinctPrefixes >= t.highPrefixes ? "high" : "medium";
}
