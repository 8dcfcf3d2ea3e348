/**
 * Scores detector output against the traffic model's labels: per-attack detection and time to
 * detect, false positives per benign pattern, and the precision of paged (alerted) anomalies.
 * It reads anomalies as the DESIGN.md format describes them, nothing detector-internal.
 */
import type { AttackLabel, BenignPattern, TrafficModel } from "./traffic-model.js";

export interface RaisedAnomaly {
  type: string;
  severity: "low" | "medium" | "high";
  keyId?: string;
  ipPrefix?: string;
  windowStart: string;
  windowEnd: string;
}

/** An anomaly as raised at `minute` (model minute index). */
export interface Raise {
  anomaly: RaisedAnomaly;
  minute: number;
}

const RANK = { low: 0, medium: 1, high: 2 } as const;
/** Evidence this long after an attack ends still belongs to it (episodes close late). */
const GRACE_MINUTES = 90;

export function attributeTo(model: TrafficModel, a: RaisedAnomaly, minute: number): AttackLabel | undefined {
  for (const attack of model.attacks) {
    if (minute < attack.fromMinute - 1 || minute > attack.toMinute + GRACE_MINUTES) continue;
    if (a.keyId !== undefined && attack.keyIds.includes(a.keyId)) return attack;
    if (a.ipPrefix !== undefined && attack.prefixes.has(a.ipPrefix)) return attack;
    // Scope-wide findings (all networks, one provider) name neither: the keyless attacks own their time.
    if (
      a.keyId === undefined &&
      a.ipPrefix === undefined &&
      attack.keyless &&
      a.type === "credential_stuffing"
    )
      return attack;
  }
  return undefined;
}

function benignSource(model: TrafficModel, a: RaisedAnomaly): BenignPattern | "other" {
  if (a.keyId !== undefined) return model.patternOfKey.get(a.keyId) ?? "other";
  if (a.ipPrefix !== undefined) return model.patternOfPrefix.get(a.ipPrefix) ?? "other";
  return "other";
}

export interface Score {
  attacks: {
    id: string;
    loud: boolean;
    detected: boolean;
    severity: string;
    minutesToDetect: number | undefined;
  }[];
  detectedAtMedium: number;
  medianLoudMinutesToDetect: number | undefined;
  falseBySource: Map<string, { low: number; medium: number; high: number }>;
  falseHighs: number;
  falseMediums: number;
  paged: number;
  pagedAttacks: number;
}

export function scoreRun(model: TrafficModel, raises: Raise[], alerts: Raise[]): Score {
  const attacks = model.attacks.map((attack) => {
    let best = -1;
    let first: number | undefined;
    for (const r of raises) {
      if (attributeTo(model, r.anomaly, r.minute) !== attack) continue;
      const rank = RANK[r.anomaly.severity];
      best = Math.max(best, rank);
      if (rank >= 1 && (first === undefined || r.minute < first)) first = r.minute;
    }
    return {
      id: attack.id,
      loud: attack.loud,
      detected: best >= 1,
      severity: best < 0 ? "-" : (["low", "medium", "high"][best] as string),
      minutesToDetect: first === undefined ? undefined : Math.max(0, first + 1 - attack.fromMinute),
    };
  });
  // False positives are counted per episode: its highest severity, once.
  const episodes = new Map<string, { a: RaisedAnomaly; minute: number; rank: number }>();
  for (const r of raises) {
    if (attributeTo(model, r.anomaly, r.minute)) continue;
    const id = `${r.anomaly.type}|${r.anomaly.keyId ?? r.anomaly.ipPrefix ?? "-"}|${r.anomaly.windowStart}`;
    const rank = RANK[r.anomaly.severity];
    const seen = episodes.get(id);
    if (!seen || rank > seen.rank) episodes.set(id, { a: r.anomaly, minute: r.minute, rank });
  }
  const falseBySource = new Map<string, { low: number; medium: number; high: number }>();
  for (const { a, rank } of episodes.values()) {
    const source = `${benignSource(model, a)} (${a.type})`;
    const counts = falseBySource.get(source) ?? { low: 0, medium: 0, high: 0 };
    counts[(["low", "medium", "high"] as const)[rank] as "low"]++;
    falseBySource.set(source, counts);
  }
  const loud = attacks
    .filter((a) => a.loud && a.minutesToDetect !== undefined)
    .map((a) => a.minutesToDetect as number);
  loud.sort((x, y) => x - y);
  const pagedAttacks = alerts.filter((r) => attributeTo(model, r.anomaly, r.minute) !== undefined).length;
  return {
    attacks,
    detectedAtMedium: attacks.filter((a) => a.detected).length,
    medianLoudMinutesToDetect: loud.length ? (loud[Math.floor((loud.length - 1) / 2)] as number) : undefined,
    falseBySource,
    falseHighs: [...falseBySource.values()].reduce((n, c) => n + c.high, 0),
    falseMediums: [...falseBySource.values()].reduce((n, c) => n + c.medium, 0),
    paged: alerts.length,
    pagedAttacks,
  };
}
