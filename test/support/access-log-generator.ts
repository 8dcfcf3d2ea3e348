import { seededRandom } from "../../bin/local/seeded-random.js";
import type { AnomalyType } from "../../lambdas/domain/anomaly/anomaly.js";
import type { KeyLeakStatus } from "../../lambdas/domain/anomaly/use-after-leak.js";

/** An attack injected into the stream: what a detector must find. */
export interface InjectedAttack {
  type: AnomalyType;
  keyId?: string;
  /** Client network (truncated) for credential stuffing. */
  ipPrefix?: string;
  fromMinute: number;
  toMinute: number;
}

export interface GeneratorOptions {
  seed?: number;
  keys?: number;
  hours?: number;
  /** Multiplies every key's request rate (the benchmark scales to a million events). */
  rateScale?: number;
  /** Inject the attacks (false: the clean stream). */
  attacks?: boolean;
  /** Epoch ms the stream starts at (a UTC midnight). */
  start?: number;
}

interface SyntheticKey {
  keyId: string;
  projectId: string;
  country: string;
  /** Client networks as `a.b.c` (IPv4) or `2001:db8:x` (IPv6) stems. */
  networks: string[];
  /** Requests per minute at the daily peak. */
  peakRate: number;
  /** Phase of its daily cycle (minutes), keys live in different time zones. */
  phase: number;
}

const HOME_COUNTRIES = ["DE", "US", "FR", "GB", "NL", "PL", "JP", "CA"];
const ATTACK_COUNTRIES = ["BR", "VN", "NG"];

export interface AccessLogStream {
  start: number;
  minutes: number;
  keys: { keyId: string; projectId: string }[];
  attacks: InjectedAttack[];
  /** Uses of a leaked key from a network it never had: these must be `high`. */
  newNetworkUse: { keyId: string; fromMinute: number; toMinute: number }[];
  /** What the key registry says (for the use_after_leak lookup). */
  registry: Map<string, KeyLeakStatus>;
  /** The access-log lines of one minute, in any order. */
  minuteLines(minute: number): string[];
}

/**
 * Realistic traffic for `keys` keys over `hours` hours: each key has a home country, a few
 * client networks (some IPv6), a diurnal Poisson request rate, a little legitimate 4xx noise;
 * plus (optionally) three injected attacks of each anomaly type.
 */
export function generateAccessLogs(options: GeneratorOptions = {}): AccessLogStream {
  const random = seededRandom(options.seed ?? 42);
  const start = options.start ?? Date.UTC(2026, 0, 5);
  const minutes = Math.round((options.hours ?? 24) * 60);
  const scale = options.rateScale ?? 1;
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  const keys: SyntheticKey[] = Array.from({ length: options.keys ?? 50 }, (_, i) => {
    const ipv6 = i % 5 === 0;
    const mobile = i % 7 === 0;
    const count = mobile ? 30 : 1 + Math.floor(random() * 3);
    const networks = Array.from({ length: count }, (_, j) =>
      ipv6 ? `2001:db8:${(i * 64 + j).toString(16)}` : `${10 + (i % 200)}.${(i * 7 + j) % 256}.${j}`,
    );
    return {
      keyId: hex(16),
      projectId: `proj-${i}`,
      country: pick(HOME_COUNTRIES),
      networks,
      peakRate: (0.5 + random() * 12) * scale,
      phase: Math.floor(random() * 1440),
    };
  });

  const attacks: InjectedAttack[] = [];
  const registry = new Map<string, KeyLeakStatus>();
  for (const key of keys) registry.set(key.keyId, { status: "active", projectId: key.projectId });
  const extra = new Map<number, string[]>();
  const leakedAt = new Map<string, number>();
  const newNetworkUse: { keyId: string; fromMinute: number; toMinute: number }[] = [];
  const inject = (minute: number, line: string) => {
    const lines = extra.get(minute) ?? [];
    lines.push(line);
    extra.set(minute, lines);
  };
  const line = (
    minute: number,
    ip: string,
    status: number,
    key?: { keyId: string; projectId?: string },
    country?: string,
  ) =>
    JSON.stringify({
      requestId: hex(12),
      time: start + minute * 60_000 + Math.floor(random() * 60_000),
      ip,
      method: "POST",
      path: "/v1/compose",
      status,
      keyId: key?.keyId ?? "-",
      projectId: key?.projectId ?? "-",
      country: country ?? "-",
      userAgent: "smelter-sdk/2.3 node/22",
    });
  const host = (network: string) =>
    network.includes(":")
      ? `${network}:${hex(4)}::${hex(3)}`
      : `${network}.${1 + Math.floor(random() * 254)}`;

  if (options.attacks ?? true) {
    const victims = keys.slice(1, 16);
    const at = (slot: number) => Math.floor(minutes * (0.25 + slot * 0.045));
    victims.slice(0, 3).forEach((key, n) => {
      const from = at(n);
      attacks.push({ type: "rate_spike", keyId: key.keyId, fromMinute: from, toMinute: from + 5 });
      for (let m = from; m < from + 5; m++) {
        for (let r = 0; r < 200 + key.peakRate * 30; r++) {
          inject(m, line(m, host(pick(key.networks)), 200, key, key.country));
        }
      }
    });
    victims.slice(3, 6).forEach((key, n) => {
      const from = at(n + 3);
      attacks.push({ type: "ip_fanout", keyId: key.keyId, fromMinute: from, toMinute: from + 3 });
      for (let m = from; m < from + 3; m++) {
        for (let p = 0; p < 60; p++) inject(m, line(m, `203.0.${p}.${1 + (m % 200)}`, 200, key, key.country));
      }
    });
    victims.slice(6, 9).forEach((key, n) => {
      const from = at(n + 6);
      attacks.push({ type: "new_country", keyId: key.keyId, fromMinute: from, toMinute: from + 1 });
      for (let r = 0; r < 3; r++) {
        inject(from, line(from, `198.18.${n}.${20 + r}`, 200, key, ATTACK_COUNTRIES[n]));
      }
    });
    [0, 1, 2].forEach((n) => {
      const from = at(n + 9);
      const network = `100.64.${n}`;
      attacks.push({
        type: "credential_stuffing",
        ipPrefix: `${network}.0/24`,
        fromMinute: from,
        toMinute: from + 4,
      });
      for (let m = from; m < from + 4; m++) {
        for (let r = 0; r < 25; r++) inject(m, line(m, `${network}.${1 + r}`, 401, { keyId: hex(16) }));
      }
    });
    victims.slice(9, 12).forEach((key, n) => {
      const leak = at(n + 12);
      registry.set(key.keyId, {
        status: "compromised",
        projectId: key.projectId,
        compromisedAt: new Date(start + leak * 60_000).toISOString(),
        incidentId: `inc-${n}`,
      });
      leakedAt.set(key.keyId, leak);
      // Every use after the leak is one (its own clients keep trying, refused); the attack proper
      // is a network the key never had, shortly after the leak, which must come out `high`.
      attacks.push({ type: "use_after_leak", keyId: key.keyId, fromMinute: leak, toMinute: minutes });
      newNetworkUse.push({ keyId: key.keyId, fromMinute: leak + 10, toMinute: leak + 13 });
      for (let m = leak + 10; m < leak + 13; m++) {
        for (let r = 0; r < 4; r++) inject(m, line(m, `198.19.${n}.${r + 1}`, 403, key, ATTACK_COUNTRIES[n]));
      }
    });
  }

  return {
    start,
    minutes,
    keys: keys.map(({ keyId, projectId }) => ({ keyId, projectId })),
    attacks,
    newNetworkUse,
    registry,
    minuteLines(minute: number): string[] {
      const lines: string[] = [];
      for (const key of keys) {
        const daily = 0.55 + 0.45 * Math.sin((2 * Math.PI * (minute + key.phase)) / 1440);
        const n = poisson(key.peakRate * daily, random);
        for (let r = 0; r < n; r++) {
          const roll = random();
          const leak = leakedAt.get(key.keyId);
          const refused = leak !== undefined && minute >= leak;
          const status = refused ? 403 : roll < 0.003 ? 401 : roll < 0.01 ? 404 : 200;
          lines.push(line(minute, host(pick(key.networks)), status, key, key.country));
        }
      }
      for (const extraLine of extra.get(minute) ?? []) lines.push(extraLine);
      return lines;
    },
  };
}

function poisson(lambda: number, random: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) {
    // Normal approximation: exact sampling is slow for large means and adds nothing here.
    const u = 1 - random();
    const v = random();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal));
  }
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

/**
 * Per anomaly type: recall = injected attacks of that type found by an anomaly of that type;
 * precision = anomalies pointing at injected attack traffic (same key or client network,
 * overlapping window, any attack type: a fan-out attack is also a rate spike) over all raised.
 */
export function scoreDetection(
  attacks: readonly InjectedAttack[],
  anomalies: readonly {
    type: AnomalyType;
    keyId?: string;
    ipPrefix?: string;
    windowStart: string;
    windowEnd: string;
  }[],
  start: number,
) {
  const minuteOf = (iso: string) => Math.round((Date.parse(iso) - start) / 60_000);
  const overlaps = (attack: InjectedAttack, anomaly: (typeof anomalies)[number]) =>
    (attack.keyId === undefined || attack.keyId === anomaly.keyId) &&
    (attack.ipPrefix === undefined || attack.ipPrefix === anomaly.ipPrefix) &&
    minuteOf(anomaly.windowStart) < attack.toMinute + 1 &&
    minuteOf(anomaly.windowEnd) > attack.fromMinute - 1;
  const types = [...new Set([...attacks.map((a) => a.type), ...anomalies.map((a) => a.type)])].sort();
  return types.map((type) => {
    const ofType = anomalies.filter((a) => a.type === type);
    const injected = attacks.filter((a) => a.type === type);
    const truePositives = ofType.filter((a) => attacks.some((attack) => overlaps(attack, a))).length;
    const found = injected.filter((attack) => ofType.some((a) => overlaps(attack, a))).length;
    return {
      type,
      injected: injected.length,
      found,
      raised: ofType.length,
      truePositives,
      precision: ofType.length === 0 ? 1 : truePositives / ofType.length,
      recall: injected.length === 0 ? 1 : found / injected.length,
    };
  });
}
