import { type Anomaly, type AnomalyType, minuteWindow, type Severity } from "./anomaly.js";
import { EMPTY_EWMA, type Ewma, ewmaIdle, ewmaUpdate, winsorize } from "./ewma.js";
import { detectIpFanout } from "./ip-fanout.js";
import { type CountryHistory, detectNewCountries, rememberCountries } from "./new-country.js";
import { detectRateSpike } from "./rate-spike.js";
import type { AnomalyThresholds } from "./thresholds.js";
import type { KeyMinuteTraffic, KeyTraffic } from "./traffic-batch.js";
import { detectUseAfterLeak, type KeyLeakStatus, leakMinute } from "./use-after-leak.js";

/** The minute still being counted: batches of the same minute add up before it joins the baseline. */
export interface OpenMinute {
  minute: number;
  requests: number;
  /** Pseudonyms (HMAC) of the networks seen this minute, capped. */
  networks: string[];
  raised: AnomalyType[];
  leakRequests: number;
}

/** Everything remembered about one key between batches: one compact item, one write per batch. */
export interface KeyBaseline {
  firstMinute: number;
  total: number;
  rate: Ewma;
  fanout: Ewma;
  countries: CountryHistory;
  /** Network pseudonym → [first, last] epoch minute seen. */
  networks: Record<string, [number, number]>;
  open?: OpenMinute;
}

/** More distinct networks than this in one minute is a fan-out whatever the exact number. */
const OPEN_NETWORKS_CAP = 512;

export interface KeyEvaluation {
  keyId: string;
  projectId?: string;
  baseline: KeyBaseline | undefined;
  traffic: KeyTraffic;
  status: KeyLeakStatus | undefined;
  thresholds: AnomalyThresholds;
  /** HMAC of a truncated network: what the baseline remembers instead of the network. */
  pseudonym: (cidr: string) => string;
}

function emptyBaseline(minute: number): KeyBaseline {
  return { firstMinute: minute, total: 0, rate: EMPTY_EWMA, fanout: EMPTY_EWMA, countries: {}, networks: {} };
}

/** Folds the closed minute into the baselines, then the idle minutes up to `next`. */
function fold(baseline: KeyBaseline, open: OpenMinute, next: number, t: AnomalyThresholds): void {
  const alpha = t.ewmaAlpha;
  const requests = winsorize(baseline.rate, open.requests, t.rateSpike.zMedium);
  const networks = winsorize(baseline.fanout, open.networks.length, t.ipFanout.zMedium);
  baseline.rate = ewmaIdle(ewmaUpdate(baseline.rate, requests, alpha), next - open.minute - 1, alpha);
  baseline.fanout = ewmaIdle(ewmaUpdate(baseline.fanout, networks, alpha), next - open.minute - 1, alpha);
}

function topNetwork(bucket: KeyMinuteTraffic): string | undefined {
  let best: string | undefined;
  let most = 0;
  for (const [cidr, n] of bucket.prefixes) {
    if (n > most) {
      best = cidr;
      most = n;
    }
  }
  return best;
}

/**
 * Runs every per-key detector over one batch of a key's traffic, minute by minute, against
 * its baseline; returns the new baseline and the anomalies raised. Pure: retried as is when a
 * concurrent batch wrote the baseline first.
 */
export function evaluateKey(input: KeyEvaluation): { baseline: KeyBaseline; anomalies: Anomaly[] } {
  const { keyId, traffic, status, thresholds: t, pseudonym } = input;
  const minutes = [...traffic.minutes.values()].sort((a, b) => a.minute - b.minute);
  const first = minutes[0]?.minute ?? 0;
  const baseline: KeyBaseline = input.baseline ? structuredClone(input.baseline) : emptyBaseline(first);
  const projectId = input.projectId;
  const anomalies: Anomaly[] = [];
  const raise = (
    type: AnomalyType,
    severity: Severity,
    minute: number,
    count: number,
    evidence: { ipPrefix?: string; countries?: string[] },
  ) => {
    anomalies.push({
      type,
      severity,
      keyId,
      ...(projectId !== undefined ? { projectId } : {}),
      ...(evidence.ipPrefix !== undefined ? { ipPrefix: evidence.ipPrefix } : {}),
      ...(evidence.countries !== undefined && evidence.countries.length > 0
        ? { countries: evidence.countries }
        : {}),
      ...minuteWindow(minute),
      count,
      ...(type === "use_after_leak" && status?.incidentId ? { incidentId: status.incidentId } : {}),
    });
  };
  const leakAt = status ? leakMinute(status) : undefined;

  for (const bucket of minutes) {
    const m = bucket.minute;
    const countries = [...bucket.countries.keys()].sort();
    const networks = [...bucket.prefixes.keys()].map((cidr) => ({ cidr, id: pseudonym(cidr) }));
    const maturity = { firstMinute: baseline.firstMinute, total: baseline.total };
    baseline.firstMinute = Math.min(baseline.firstMinute, m);
    baseline.total += bucket.requests;

    // Late data (an older minute than the open one) still teaches countries and networks.
    const open = baseline.open && m < baseline.open.minute ? undefined : openMinute(baseline, m, t);
    if (open) {
      open.requests += bucket.requests;
      for (const { id } of networks) {
        if (open.networks.length < OPEN_NETWORKS_CAP && !open.networks.includes(id)) open.networks.push(id);
      }
      if (!open.raised.includes("rate_spike")) {
        const severity = detectRateSpike(baseline.rate, open.requests, t);
        if (severity) {
          open.raised.push("rate_spike");
          raise("rate_spike", severity, m, open.requests, { ipPrefix: topNetwork(bucket), countries });
        }
      }
      if (!open.raised.includes("ip_fanout")) {
        const severity = detectIpFanout(baseline.fanout, open.networks.length, t);
        if (severity) {
          open.raised.push("ip_fanout");
          raise("ip_fanout", severity, m, open.networks.length, { countries });
        }
      }
    }

    for (const fresh of detectNewCountries(baseline.countries, countries, m, maturity, t)) {
      const cidr = bucket.countries.get(fresh.country);
      raise("new_country", fresh.severity, m, cidr ? (bucket.prefixes.get(cidr) ?? 1) : 1, {
        ...(cidr ? { ipPrefix: cidr } : {}),
        countries: [fresh.country],
      });
    }
    baseline.countries = rememberCountries(baseline.countries, countries, m, t);

    if (status) {
      const unseen = networks.find(({ id }) => {
        const seen = baseline.networks[id];
        return seen === undefined || (leakAt !== undefined && seen[0] >= leakAt);
      });
      const severity = detectUseAfterLeak(status, m, unseen !== undefined, t);
      if (severity) {
        if (open) open.leakRequests += bucket.requests;
        const count = open ? open.leakRequests : bucket.requests;
        raise("use_after_leak", severity, m, count, {
          ipPrefix: unseen?.cidr ?? topNetwork(bucket),
          countries,
        });
      }
    }

    for (const { id } of networks) {
      const seen = baseline.networks[id];
      baseline.networks[id] = seen ? [Math.min(seen[0], m), Math.max(seen[1], m)] : [m, m];
    }
  }
  capNetworks(baseline, t.prefixHistoryCap);
  return { baseline, anomalies };
}

/** The open minute for `m`, folding the previous one into the baseline when `m` is later. */
function openMinute(baseline: KeyBaseline, m: number, t: AnomalyThresholds): OpenMinute {
  if (baseline.open && baseline.open.minute === m) return baseline.open;
  if (baseline.open) fold(baseline, baseline.open, m, t);
  baseline.open = { minute: m, requests: 0, networks: [], raised: [], leakRequests: 0 };
  return baseline.open;
}

/** Keeps the most recently seen networks only, so the item stays small. */
function capNetworks(baseline: KeyBaseline, cap: number): void {
  const entries = Object.entries(baseline.networks);
  if (entries.length <= cap) return;
  entries.sort((a, b) => b[1][1] - a[1][1]);
  baseline.networks = Object.fromEntries(entries.slice(0, cap));
}
