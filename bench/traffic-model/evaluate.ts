/**
 * Runs a traffic model through the detector code (in memory, 5-second batches as a CloudWatch
 * Logs subscription delivers them) and scores it. Used by bench/anomaly.bench.ts and, on a small
 * slice, by the unit tests.
 */

import { InMemoryAnomalyState } from "../../lambdas/adapters/in-memory-anomaly-state.js";
import type { Anomaly } from "../../lambdas/domain/anomaly/anomaly.js";
import { AnomalyDetector } from "../../lambdas/domain/anomaly/detect-anomalies.js";
import type { AnomalyThresholds } from "../../lambdas/domain/anomaly/thresholds.js";
import {
  type CountryResolver,
  type NetworkOwnerResolver,
  TrafficBatch,
} from "../../lambdas/domain/anomaly/traffic-batch.js";
import type { KeyLeakStatus } from "../../lambdas/domain/anomaly/use-after-leak.js";
import { hmacSha256Hex } from "../../lambdas/domain/ip-prefix.js";
import { type Raise, type Score, scoreRun } from "./score.js";
import type { TrafficModel } from "./traffic-model.js";

export interface EvaluationRun {
  score: Score;
  lines: number;
  cpuMs: number;
  ms: number;
  batches: number;
  profileWrites: number;
  anomalyWrites: number;
  activeKeyMinutes: number;
}

export async function evaluate(
  model: TrafficModel,
  deps: {
    thresholds: AnomalyThresholds;
    resolveCountry: CountryResolver;
    resolveOwner: NetworkOwnerResolver;
    /** A slice of the model: [fromMinute, fromMinute + minutes). */
    fromMinute?: number;
    minutes?: number;
  },
): Promise<EvaluationRun> {
  const state = new InMemoryAnomalyState();
  const raises: Raise[] = [];
  const minute0 = Math.floor(model.start / 60_000);
  const pseudonyms = new Map<string, string>();
  const detector = new AnomalyDetector({
    profiles: state,
    anomalies: state,
    alerts: state,
    keyStatus: async (ids) => {
      const found = new Map<string, KeyLeakStatus>();
      for (const id of ids) {
        const entry = model.registry.get(id);
        if (entry) found.set(id, entry);
      }
      return found;
    },
    thresholds: deps.thresholds,
    pseudonym: (cidr) => {
      let id = pseudonyms.get(cidr);
      if (id === undefined) {
        id = hmacSha256Hex("evaluation-pepper", cidr).slice(0, 32);
        pseudonyms.set(cidr, id);
      }
      return id;
    },
    trace: (anomaly: Anomaly, minute: number) => raises.push({ anomaly, minute: minute - minute0 }),
  });
  const alerts: Raise[] = [];
  let lines = 0;
  let batches = 0;
  let activeKeyMinutes = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const from = deps.fromMinute ?? 0;
  const total = Math.min(model.minutes, from + (deps.minutes ?? model.minutes));
  for (let m = from; m < total; m++) {
    const minuteLines = model.minuteLines(m);
    lines += minuteLines.length;
    const active = new Set<string>();
    // Twelve 5-second deliveries a minute.
    for (let slice = 0; slice < 12; slice++) {
      const batch = new TrafficBatch(deps.resolveCountry, deps.resolveOwner);
      const from = Math.floor((slice * minuteLines.length) / 12);
      const to = Math.floor(((slice + 1) * minuteLines.length) / 12);
      for (let i = from; i < to; i++) batch.addLine(minuteLines[i] as string);
      for (const r of batch.records)
        if (r.keyId && r.status !== undefined && r.status < 400) active.add(r.keyId);
      const before = state.published.length;
      await detector.process(batch, { final: m === total - 1 && slice === 11 });
      batches++;
      for (const alert of state.published.slice(before)) alerts.push({ anomaly: alert.anomaly, minute: m });
    }
    activeKeyMinutes += active.size;
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    score: scoreRun(model, raises, alerts),
    lines,
    cpuMs: (cpu.user + cpu.system) / 1000,
    ms: performance.now() - t0,
    batches,
    profileWrites: state.profileWrites,
    anomalyWrites: state.anomalyWrites,
    activeKeyMinutes,
  };
}

export function printScore(label: string, run: EvaluationRun): void {
  const s = run.score;
  console.log(
    `\n== ${label}: ${run.lines.toLocaleString()} lines, ${run.batches} batches, ${(run.ms / 1000).toFixed(1)} s`,
  );
  console.table(
    s.attacks.map((a) => ({
      attack: a.id,
      loud: a.loud ? "yes" : "",
      "max severity": a.severity,
      "found (>= medium)": a.detected ? "yes" : "NO",
      "minutes to detect": a.minutesToDetect ?? "-",
    })),
  );
  console.log(
    `attacks found at >= medium: ${s.detectedAtMedium} of ${s.attacks.length}; median time to detect (loud): ${s.medianLoudMinutesToDetect ?? "-"} min`,
  );
  console.table(
    [...s.falseBySource]
      .sort()
      .map(([source, c]) => ({ "benign source (type)": source, low: c.low, medium: c.medium, high: c.high })),
  );
  console.log(
    `benign false highs: ${s.falseHighs}, false mediums: ${s.falseMediums}; paged alerts: ${s.paged}, of them attacks: ${s.pagedAttacks} (${s.paged ? ((100 * s.pagedAttacks) / s.paged).toFixed(1) : "-"} %)`,
  );
  console.log(
    `writes (in-memory count): ${run.profileWrites} profile + ${run.anomalyWrites} anomaly over ${run.activeKeyMinutes.toLocaleString()} active key-minutes = ${((run.profileWrites + run.anomalyWrites) / Math.max(1, run.activeKeyMinutes)).toFixed(3)} per active key-minute`,
  );
}
