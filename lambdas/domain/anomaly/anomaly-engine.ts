import type { Anomaly, AnomalyType, Severity } from "./anomaly.js";
import { type Episode, type EpisodeChange, EpisodeTracker, type Evidence } from "./episodes.js";
import { capSightings, emptyProfile, HOURS, type KeyProfile, rollDay, type Sighting } from "./key-profile.js";
import type { AnomalyThresholds } from "./thresholds.js";
import { isAuthFailure, isRetryable, type NetworkOwner, type TrafficRecord } from "./traffic-batch.js";
import { detectUseAfterLeak, type KeyLeakStatus, leakMinute } from "./use-after-leak.js";

const DAY = 1_440;
const UNKNOWN_PROVIDER = "unknown";
/** Distinct keys remembered per refusal window and scope: past this a window is stuffing anyway. */
const WINDOW_KEYS_CAP = 5_000;

interface ProviderMinute {
  requests: number;
  owner: NetworkOwner | undefined;
  countries: Set<string>;
  families: Set<string>;
  cidr: string;
}

interface KeyMinute {
  keyId: string;
  projectId: string | undefined;
  demand: number;
  cidrs: Set<string>;
  providers: Map<string, ProviderMinute>;
}

interface RefusalWindow {
  id: number;
  global: Set<string>;
  providers: Map<string, { keys: Set<string>; owner: NetworkOwner | undefined }>;
  networks: Map<string, { requests: number; keys: Set<string>; evidence: Evidence }>;
}

/** A network that refused a handful of distinct keys: stale poller or small stuffing, decided later. */
interface PendingNetwork {
  window: number;
  keys: Set<string>;
  stale: boolean;
  evidence: Evidence;
}

/** In-memory, per-process: what a key did in the current hour and day (rebuilt after a cold start). */
interface KeyWindows {
  hour: number;
  hourNets: Set<string>;
  hourProviders: Set<string>;
  day: number;
  dayNets: Set<string>;
}

export interface EngineDeps {
  thresholds: AnomalyThresholds;
  /** HMAC of a truncated network: what a profile remembers instead of the network. */
  pseudonym: (cidr: string) => string;
  alertFloor?: Severity;
  trace?: (anomaly: Anomaly, minute: number) => void;
}

const providerOf = (owner: NetworkOwner | undefined) => owner?.provider ?? UNKNOWN_PROVIDER;

/**
 * The streaming detector: access-log records in (any batch size, roughly in time order), state
 * kept in memory between invocations, anomalies out as episodes. Per-key rules run when a minute
 * closes (`latenessMinutes` after it ends); refusal velocity and use-after-leak run per request.
 * Pure: profiles are loaded and saved by the caller (AnomalyDetector) through the ports.
 */
export class AnomalyEngine {
  readonly profiles = new Map<string, KeyProfile>();
  readonly dirty = new Set<string>();
  private readonly minutes = new Map<number, Map<string, KeyMinute>>();
  private readonly windows = new Map<string, KeyWindows>();
  private readonly episodes: EpisodeTracker;
  private readonly t: AnomalyThresholds;
  private watermark = Number.NEGATIVE_INFINITY;
  private closedThrough = Number.NEGATIVE_INFINITY;
  private w5: RefusalWindow | undefined;
  private w60: RefusalWindow | undefined;
  /** Distinct refused keys of recent 5-minute windows (24 h), without the anomalous ones. */
  private readonly globalHistory: number[] = [];
  private readonly stale = new Map<string, { keys: Set<string>; streak: number }>();
  private readonly pendingNetworks = new Map<string, PendingNetwork>();

  constructor(private readonly deps: EngineDeps) {
    this.t = deps.thresholds;
    this.episodes = new EpisodeTracker(this.t.episodes.gapMinutes, deps.alertFloor ?? "high", deps.trace);
  }

  knows(keyId: string): boolean {
    return this.profiles.has(keyId);
  }

  adopt(keyId: string, profile: KeyProfile): void {
    if (!this.profiles.has(keyId)) this.profiles.set(keyId, profile);
  }

  /** Latest minute seen minus nothing: the caller's clock for flushing. */
  get now(): number {
    return this.watermark;
  }

  ingest(records: readonly TrafficRecord[], statuses: ReadonlyMap<string, KeyLeakStatus>): void {
    for (const r of records) {
      if (r.minute > this.watermark) this.watermark = r.minute;
      const refused = isAuthFailure(r.status);
      if (refused) this.refusal(r);
      if (r.keyId === undefined) continue;
      const status = statuses.get(r.keyId);
      const accepted = !refused && !isRetryable(r.status);
      if (status === undefined && !accepted) continue;
      if (status !== undefined && status.status !== "active") this.leakUse(r, status);
      if (r.minute <= this.closedThrough) continue; // too late for its minute: counted nowhere else
      let minute = this.minutes.get(r.minute);
      if (!minute) {
        minute = new Map();
        this.minutes.set(r.minute, minute);
      }
      let km = minute.get(r.keyId);
      if (!km) {
        km = {
          keyId: r.keyId,
          projectId: r.projectId ?? status?.projectId,
          demand: 0,
          cidrs: new Set(),
          providers: new Map(),
        };
        minute.set(r.keyId, km);
      }
      if (accepted) km.demand++;
      if (refused) continue; // a refused request is not the owner's traffic: it teaches nothing
      km.cidrs.add(r.cidr);
      const provider = providerOf(r.owner);
      let pm = km.providers.get(provider);
      if (!pm) {
        pm = { requests: 0, owner: r.owner, countries: new Set(), families: new Set(), cidr: r.cidr };
        km.providers.set(provider, pm);
      }
      pm.requests++;
      if (r.country) pm.countries.add(r.country);
      if (r.family) pm.families.add(r.family);
    }
    this.closeThrough(this.watermark - this.t.latenessMinutes - 1);
  }

  /** Closes every open minute (end of input, or before a final flush). */
  finish(): void {
    this.closeThrough(Number.POSITIVE_INFINITY);
  }

  drain(): EpisodeChange[] {
    return this.episodes.drain(this.watermark);
  }

  /** Forgets what is older than the episodes' gap (bounded memory in a long-lived Lambda). */
  get openEpisodes(): number {
    return this.episodes.size;
  }

  // ---- per-key rules, when a minute closes ------------------------------------------------------

  private closeThrough(last: number): void {
    const ready = [...this.minutes.keys()].filter((m) => m <= last).sort((a, b) => a - b);
    for (const m of ready) {
      const keys = this.minutes.get(m) as Map<string, KeyMinute>;
      this.minutes.delete(m);
      const spikes: { km: KeyMinute; severity: Severity; envelope: number }[] = [];
      for (const km of keys.values()) {
        const spike = this.closeKeyMinute(m, km);
        if (spike) spikes.push({ km, ...spike });
      }
      this.platformOrKeys(m, spikes, keys.size);
      if (m > this.closedThrough) this.closedThrough = m;
    }
    if (last !== Number.POSITIVE_INFINITY && last > this.closedThrough) this.closedThrough = last;
  }

  private profileFor(keyId: string, m: number): KeyProfile {
    let p = this.profiles.get(keyId);
    if (!p) {
      p = emptyProfile(m);
      this.profiles.set(keyId, p);
    }
    return p;
  }

  private closeKeyMinute(m: number, km: KeyMinute): { severity: Severity; envelope: number } | undefined {
    const t = this.t;
    const p = this.profileFor(km.keyId, m);
    rollDay(p, Math.floor(m / DAY), t.rate.dailyDecay);
    this.dirty.add(km.keyId);
    const learning = m - p.first < t.learningMinutes;
    const firstMinute = p.total === 0;
    p.total += km.demand;
    p.last = Math.max(p.last, m);

    // Network novelty (provider/ASN, country, client family) before the sightings are learned.
    const untrusted = this.novelty(m, km, p, learning, firstMinute);

    // Distinct networks per key per hour and per day (fan-out, low and slow).
    this.fanout(m, km, p);

    // Rate against the key's envelope of past days (hour-of-day peaks, all-hours peak).
    const hour = Math.floor((m % DAY) / 60);
    const spike = this.rate(m, km, p, hour, untrusted);
    if (!spike) p.today[hour] = Math.max(p.today[hour] ?? 0, km.demand);

    for (const cidr of km.cidrs) {
      const id = this.deps.pseudonym(cidr).slice(0, 12);
      const seen = p.nets[id];
      p.nets[id] = seen ? [Math.min(seen[0], m), Math.max(seen[1], m)] : [m, m];
    }
    p.nets = capSightings(p.nets, t.caps.networks);
    return spike;
  }

  private rate(m: number, km: KeyMinute, p: KeyProfile, hour: number, untrusted: number) {
    const t = this.t.rate;
    const d = km.demand;
    if (d < t.minRequests) return undefined;
    let envelope: number;
    if (p.days >= 1) {
      const near = Math.max(
        p.peaks[(hour + HOURS - 1) % HOURS] ?? 0,
        p.peaks[hour] ?? 0,
        p.peaks[(hour + 1) % HOURS] ?? 0,
      );
      envelope = Math.max(near, t.allHoursShare * Math.max(...p.peaks), t.floor);
    } else {
      // First day: only today's running peak exists; demand a much larger jump.
      const running = Math.max(...p.today);
      if (running === 0 || m - p.first < 60) return undefined;
      envelope = Math.max(running, t.floor) * (t.factorHigh / t.factorMedium);
    }
    if (d <= t.factorMedium * envelope) return undefined;
    const mostlyNew = untrusted >= 0.5 * d;
    const severity: Severity =
      d > t.factorCertain * envelope || (d > t.factorHigh * envelope && mostlyNew) ? "high" : "medium";
    return { severity, envelope };
  }

  private platformOrKeys(
    m: number,
    spikes: { km: KeyMinute; severity: Severity; envelope: number }[],
    active: number,
  ) {
    const t = this.t.rate;
    if (spikes.length === 0) return;
    if (spikes.length >= Math.max(t.platformKeys, t.platformShare * active)) {
      // Many keys above their envelopes at once is the platform (an outage's catch-up, a launch), not N leaks.
      this.episodes.raise("PLATFORM", "rate_spike", "low", m, spikes.length, {
        reason: `${spikes.length} of ${active} active keys above their rate envelopes in the same minute`,
      });
      return;
    }
    for (const { km, severity, envelope } of spikes) {
      this.episodes.raise(`KEY#${km.keyId}`, "rate_spike", severity, m, km.demand, {
        ...this.keyEvidence(km),
        reason: `${km.demand} requests/min against an envelope of ${Math.round(envelope)}`,
      });
    }
  }

  private keyEvidence(km: KeyMinute): Evidence {
    let top: ProviderMinute | undefined;
    for (const pm of km.providers.values()) if (!top || pm.requests > top.requests) top = pm;
    return {
      keyId: km.keyId,
      ...(km.projectId !== undefined ? { projectId: km.projectId } : {}),
      ...(top ? { ipPrefix: top.cidr } : {}),
      ...(top?.owner ? { asn: top.owner.asn, provider: top.owner.provider.slice(0, 64) } : {}),
    };
  }

  /** Returns the minute's requests from providers the key does not trust. */
  private novelty(m: number, km: KeyMinute, p: KeyProfile, learning: boolean, firstMinute: boolean): number {
    const t = this.t;
    if (firstMinute) {
      const top = [...km.providers.values()].sort((a, b) => b.requests - a.requests)[0];
      const home = top ? [...top.countries][0] : undefined;
      if (home) p.home = home;
    }
    let untrusted = 0;
    const trustedProviders = Object.values(p.providers).filter((s) => s[2] === 1).length;
    const trustedCountries = Object.values(p.countries).filter((s) => s[2] === 1).length;
    const global =
      trustedProviders >= t.novelty.globalProviders || trustedCountries >= t.novelty.globalCountries;
    for (const [provider, pm] of km.providers) {
      const known = p.providers[provider];
      const hosting = pm.owner?.hosting === true;
      if (learning) {
        // Learning-period protection: the set-up minute and home-country consumer networks are
        // trusted; hosting or foreign networks that show up later must prove themselves later.
        const foreign = [...pm.countries].some((c) => c !== p.home);
        const trust = firstMinute || (!hosting && !foreign) ? 1 : 0;
        p.providers[provider] = known ? [known[0], m, Math.max(known[2], trust)] : [m, m, trust];
        for (const c of pm.countries) learn(p.countries, c, m, trust);
        for (const f of pm.families) learn(p.families, f, m, trust);
        if (!trust) untrusted += pm.requests;
        continue;
      }
      const newProvider = !known || known[2] === 0;
      const newCountries = [...pm.countries].filter((c) => p.countries[c]?.[2] !== 1);
      const newFamilies = [...pm.families].filter((f) => p.families[f]?.[2] !== 1);
      if (newProvider) untrusted += pm.requests;
      const last = p.lastCountry;
      // Geo-velocity only means something for a key used from one country (fleets are everywhere
      // at once), and only for a country never seen with the key, even untrusted.
      const impossible =
        trustedCountries <= 1 &&
        newCountries.some((c) => p.countries[c] === undefined) &&
        last !== undefined &&
        !pm.countries.has(last[0]) &&
        m - last[1] < t.novelty.impossibleTravelMinutes;
      let severity: Severity | undefined;
      if (!newProvider && newCountries.length === 0 && newFamilies.length === 0) severity = undefined;
      else if (global) severity = "low";
      else if (newProvider && hosting && (newCountries.length > 0 || newFamilies.length > 0))
        severity = "high";
      else if (newProvider && impossible) severity = "high";
      else if (newProvider && newCountries.length > 0 && newFamilies.length > 0) severity = "medium";
      else if (newProvider && (hosting || newFamilies.length > 0)) severity = "medium";
      else severity = "low";
      if (severity) {
        const what = [
          newProvider ? `provider ${provider}${hosting ? " (hosting)" : ""}` : "",
          newCountries.length > 0 ? `country ${newCountries.join(",")}` : "",
          newFamilies.length > 0 ? `client ${newFamilies.join(",")}` : "",
          impossible ? "impossible travel" : "",
        ].filter(Boolean);
        this.episodes.raise(
          `KEY#${km.keyId}`,
          newCountries.length > 0 ? "new_country" : "new_network",
          severity,
          m,
          pm.requests,
          {
            keyId: km.keyId,
            ...(km.projectId !== undefined ? { projectId: km.projectId } : {}),
            ipPrefix: pm.cidr,
            ...(pm.countries.size > 0 ? { countries: [...pm.countries].sort().slice(0, 8) } : {}),
            ...(pm.owner ? { asn: pm.owner.asn, provider: pm.owner.provider.slice(0, 64) } : {}),
            reason: `new to the key: ${what.join("; ")}`.slice(0, 200),
          },
        );
      }
      // Seen, but trusted only once it has lasted a day (an attacker's network must not become normal at once).
      const first = known ? known[0] : m;
      const trust = known?.[2] === 1 || m - first >= DAY ? 1 : 0;
      p.providers[provider] = [first, m, trust];
      for (const c of pm.countries) learn(p.countries, c, m, p.countries[c]?.[2] === 1 || trust ? 1 : 0, DAY);
      for (const f of pm.families) learn(p.families, f, m, p.families[f]?.[2] === 1 || trust ? 1 : 0, DAY);
    }
    const country = [...(km.providers.values().next().value?.countries ?? [])][0];
    if (country) p.lastCountry = [country, m];
    p.providers = capSightings(p.providers, t.caps.providers);
    p.countries = capSightings(p.countries, t.caps.countries);
    p.families = capSightings(p.families, t.caps.families);
    return untrusted;
  }

  private fanout(m: number, km: KeyMinute, p: KeyProfile): void {
    const t = this.t.fanout;
    const hour = Math.floor(m / 60);
    const day = Math.floor(m / DAY);
    let w = this.windows.get(km.keyId);
    if (!w) {
      w = { hour, hourNets: new Set(), hourProviders: new Set(), day, dayNets: new Set() };
      this.windows.set(km.keyId, w);
    }
    if (w.hour !== hour) Object.assign(w, { hour, hourNets: new Set(), hourProviders: new Set() });
    if (w.day !== day) Object.assign(w, { day, dayNets: new Set() });
    for (const cidr of km.cidrs) {
      if (w.hourNets.size < 1_024) w.hourNets.add(cidr);
      if (w.dayNets.size < 4_096) w.dayNets.add(cidr);
    }
    for (const provider of km.providers.keys()) w.hourProviders.add(provider);
    const firing: { severity: Severity; count: number; reason: string }[] = [];
    if (p.days >= 1) {
      const hourBar = Math.max(t.hourMinNetworks, t.factor * p.hourNets);
      const providerBar = Math.max(t.hourMinProviders, t.factor * p.hourProviders);
      const dayBar = Math.max(t.dayMinNetworks, t.factor * p.dayNets);
      if (w.hourNets.size > hourBar) {
        const severity: Severity = w.hourProviders.size > providerBar ? "high" : "medium";
        firing.push({
          severity,
          count: w.hourNets.size,
          reason: `${w.hourNets.size} networks (${w.hourProviders.size} providers) in one hour; normal up to ${Math.round(p.hourNets)}`,
        });
      } else if (w.dayNets.size > dayBar) {
        firing.push({
          severity: "medium",
          count: w.dayNets.size,
          reason: `${w.dayNets.size} networks in one day; normal up to ${Math.round(p.dayNets)}`,
        });
      }
    }
    // Today's figures are learned only while nothing fires (an attack must not raise the bar).
    if (firing.length === 0) {
      p.todayHourNets = Math.max(p.todayHourNets, w.hourNets.size);
      p.todayHourProviders = Math.max(p.todayHourProviders, w.hourProviders.size);
      p.todayNets = Math.max(p.todayNets, w.dayNets.size);
    }
    for (const f of firing) {
      this.episodes.raise(`KEY#${km.keyId}`, "ip_fanout", f.severity, m, f.count, {
        keyId: km.keyId,
        ...(km.projectId !== undefined ? { projectId: km.projectId } : {}),
        reason: f.reason,
      });
    }
  }

  // ---- per-request rules -------------------------------------------------------------------------

  private leakUse(r: TrafficRecord, status: KeyLeakStatus): void {
    const keyId = r.keyId as string;
    const from = leakMinute(status);
    if (from === undefined || r.minute < from) return;
    const p = this.profiles.get(keyId);
    const seen = p?.nets[this.deps.pseudonym(r.cidr).slice(0, 12)];
    // Networks first seen shortly before the leak are the leaker's as likely as the owner's.
    const owners = seen !== undefined && seen[0] < from - this.t.useAfterLeak.ownerBeforeLeakMinutes;
    const severity = detectUseAfterLeak(status, r.minute, owners);
    if (!severity) return;
    this.episodes.raise(`KEY#${keyId}`, "use_after_leak", severity, r.minute, 1, {
      keyId,
      ...(status.projectId !== undefined ? { projectId: status.projectId } : {}),
      ...(status.incidentId !== undefined ? { incidentId: status.incidentId } : {}),
      ipPrefix: r.cidr,
      ...(r.country ? { countries: [r.country] } : {}),
      ...(r.owner ? { asn: r.owner.asn, provider: r.owner.provider.slice(0, 64) } : {}),
      reason: `${status.status} key used from ${owners ? "a network its owner used before" : "a network its owner never used"}`,
    });
  }

  private refusal(r: TrafficRecord): void {
    const t = this.t.refusals;
    const w5 = this.window5(Math.floor(r.minute / 5));
    const w60 = this.window60(Math.floor(r.minute / 60));
    const provider = providerOf(r.owner);
    const netEvidence = (): Evidence => ({
      ipPrefix: r.cidr,
      ...(r.country ? { countries: [r.country] } : {}),
      ...(r.owner ? { asn: r.owner.asn, provider: r.owner.provider.slice(0, 64) } : {}),
    });
    let net = w5.networks.get(r.cidr);
    if (!net) {
      net = { requests: 0, keys: new Set<string>(), evidence: netEvidence() };
      w5.networks.set(r.cidr, net);
    }
    net.requests++;
    const subjectOfNet = `CLIENT#${this.deps.pseudonym(r.cidr)}`;
    // Keyless and bad-checksum attempts count here: the network is guessing, whatever it sends.
    if (net.requests === t.networkRequestsMedium || net.requests === t.networkRequestsHigh) {
      const severity: Severity = net.requests >= t.networkRequestsHigh ? "high" : "medium";
      this.episodes.raise(subjectOfNet, "credential_stuffing", severity, r.minute, net.requests, {
        ...netEvidence(),
        reason: `${net.requests} refused requests from one network in 5 minutes`,
      });
    }
    if (r.keyId === undefined) return;
    const keyId = r.keyId;
    if (net.keys.size < WINDOW_KEYS_CAP && !net.keys.has(keyId)) {
      net.keys.add(keyId);
      // Up to staleMaxKeys the verdict waits for the window to close (a stale poller repeats its
      // set, a stuffer does not); beyond it, or at the high bar, it is stuffing at once.
      const immediateMedium = Math.max(t.networkKeysMedium, t.staleMaxKeys + 1);
      if (net.keys.size === immediateMedium || net.keys.size === t.networkKeysHigh) {
        const severity: Severity = net.keys.size >= t.networkKeysHigh ? "high" : "medium";
        this.episodes.raise(subjectOfNet, "credential_stuffing", severity, r.minute, net.keys.size, {
          ...netEvidence(),
          reason: `${net.keys.size} distinct refused keys from one network in 5 minutes`,
        });
      }
    }
    const history = this.globalHistory.length > 0 ? Math.max(...this.globalHistory) : 0;
    const globalMedium = Math.max(t.globalMedium, Math.ceil((t.globalFactor / 2) * history));
    const globalHigh = Math.max(t.globalHigh, Math.ceil(t.globalFactor * history));
    if (w5.global.size < WINDOW_KEYS_CAP && !w5.global.has(keyId)) {
      w5.global.add(keyId);
      const n = w5.global.size;
      if (n === globalMedium || n === globalHigh) {
        this.episodes.raise(
          "GLOBAL",
          "credential_stuffing",
          n >= globalHigh ? "high" : "medium",
          r.minute,
          n,
          {
            reason: `${n} distinct refused keys in 5 minutes across all networks; recent normal up to ${history}`,
          },
        );
      }
    }
    const pw = w5.providers.get(provider) ?? { keys: new Set<string>(), owner: r.owner };
    w5.providers.set(provider, pw);
    if (pw.keys.size < WINDOW_KEYS_CAP && !pw.keys.has(keyId)) {
      pw.keys.add(keyId);
      const n = pw.keys.size;
      const polling = (this.stale.get(provider)?.streak ?? 0) >= t.staleWindows && n <= t.staleMaxKeys;
      if (!polling && (n === t.providerMedium || n === t.providerHigh)) {
        this.episodes.raise(
          `ASN#${r.owner?.asn ?? provider}`,
          "credential_stuffing",
          n >= t.providerHigh ? "high" : "medium",
          r.minute,
          n,
          {
            ...(r.owner ? { asn: r.owner.asn, provider: r.owner.provider.slice(0, 64) } : {}),
            reason: `${n} distinct refused keys from one provider in 5 minutes`,
          },
        );
      }
    }
    if (w60.global.size < WINDOW_KEYS_CAP && !w60.global.has(keyId)) {
      w60.global.add(keyId);
      if (w60.global.size === t.hourGlobalHigh) {
        this.episodes.raise("GLOBAL", "credential_stuffing", "high", r.minute, w60.global.size, {
          reason: `${w60.global.size} distinct refused keys in one hour across all networks`,
        });
      }
    }
    const ph = w60.providers.get(provider) ?? { keys: new Set<string>(), owner: r.owner };
    w60.providers.set(provider, ph);
    if (ph.keys.size < WINDOW_KEYS_CAP && !ph.keys.has(keyId)) {
      ph.keys.add(keyId);
      if (ph.keys.size === t.hourProviderHigh) {
        this.episodes.raise(
          `ASN#${r.owner?.asn ?? provider}`,
          "credential_stuffing",
          "high",
          r.minute,
          ph.keys.size,
          {
            ...(r.owner ? { asn: r.owner.asn, provider: r.owner.provider.slice(0, 64) } : {}),
            reason: `${ph.keys.size} distinct refused keys from one provider in one hour`,
          },
        );
      }
    }
  }

  private window5(id: number): RefusalWindow {
    if (this.w5 && id <= this.w5.id) return this.w5;
    if (this.w5) this.closeWindow5(this.w5, id);
    this.w5 = { id, global: new Set(), providers: new Map(), networks: new Map() };
    return this.w5;
  }

  private window60(id: number): RefusalWindow {
    if (this.w60 && id <= this.w60.id) return this.w60;
    this.w60 = { id, global: new Set(), providers: new Map(), networks: new Map() };
    return this.w60;
  }

  /** Learns the window's global count (if unremarkable) and tracks stale polling per provider. */
  private closeWindow5(w: RefusalWindow, next: number): void {
    const t = this.t.refusals;
    const history = this.globalHistory.length > 0 ? Math.max(...this.globalHistory) : 0;
    if (w.global.size < Math.max(t.globalMedium, (t.globalFactor / 2) * history)) {
      this.globalHistory.push(w.global.size);
      // Idle windows in between count as zero; keep 24 h of windows.
      for (let i = w.id + 1; i < next && this.globalHistory.length < 600; i++) this.globalHistory.push(0);
      while (this.globalHistory.length > 288) this.globalHistory.shift();
    }
    for (const [provider, pw] of w.providers) {
      const previous = this.stale.get(provider);
      const small = pw.keys.size <= t.staleMaxKeys;
      let overlap = 0;
      if (previous) for (const k of pw.keys) if (previous.keys.has(k)) overlap++;
      const repeats = previous !== undefined && small && overlap >= t.staleOverlap * pw.keys.size;
      const streak = repeats ? (previous?.streak ?? 0) + 1 : small ? 1 : 0;
      this.stale.set(provider, { keys: new Set(pw.keys), streak });
      if (streak === t.staleWindows) {
        // The same few refused keys again and again: a forgotten integration, one low finding.
        this.episodes.raise(
          `ASN#${pw.owner?.asn ?? provider}`,
          "credential_stuffing",
          "low",
          w.id * 5 + 4,
          pw.keys.size,
          {
            ...(pw.owner ? { asn: pw.owner.asn, provider: pw.owner.provider.slice(0, 64) } : {}),
            reason: `the same ${pw.keys.size} refused keys polled window after window (stale credentials)`,
          },
        );
      }
    }
    if (this.stale.size > 10_000) this.stale.clear();
    this.judgePendingNetworks(w, next);
  }

  /** Networks with a handful of refused keys: a repeat of the same set is stale polling (low), none is stuffing. */
  private judgePendingNetworks(w: RefusalWindow, next: number): void {
    const t = this.t.refusals;
    const minute = w.id * 5 + 4;
    for (const [cidr, net] of w.networks) {
      if (net.keys.size < t.networkKeysMedium || net.keys.size > t.staleMaxKeys) continue;
      const pending = this.pendingNetworks.get(cidr);
      let overlap = 0;
      if (pending) for (const k of net.keys) if (pending.keys.has(k)) overlap++;
      const subject = `CLIENT#${this.deps.pseudonym(cidr)}`;
      if (pending && overlap >= t.staleOverlap * net.keys.size) {
        this.episodes.raise(subject, "credential_stuffing", "low", minute, net.keys.size, {
          ...net.evidence,
          reason: `the same ${net.keys.size} refused keys polled again from one network (stale credentials)`,
        });
        this.pendingNetworks.set(cidr, {
          window: w.id,
          keys: new Set(net.keys),
          stale: true,
          evidence: net.evidence,
        });
      } else {
        if (pending && !pending.stale) this.stuffingVerdict(cidr, pending, minute);
        this.pendingNetworks.set(cidr, {
          window: w.id,
          keys: new Set(net.keys),
          stale: false,
          evidence: net.evidence,
        });
      }
    }
    // Not repeated within three windows: it was guessing.
    for (const [cidr, pending] of this.pendingNetworks) {
      if (pending.window >= next - 3) continue;
      if (!pending.stale) this.stuffingVerdict(cidr, pending, next * 5);
      this.pendingNetworks.delete(cidr);
    }
  }

  private stuffingVerdict(cidr: string, pending: PendingNetwork, minute: number): void {
    this.episodes.raise(
      `CLIENT#${this.deps.pseudonym(cidr)}`,
      "credential_stuffing",
      "medium",
      minute,
      pending.keys.size,
      {
        ...pending.evidence,
        reason: `${pending.keys.size} distinct refused keys from one network in 5 minutes, not repeated`,
      },
    );
  }
}

function learn(map: Record<string, Sighting>, name: string, m: number, trust: number, promoteAfter?: number) {
  const seen = map[name];
  const first = seen ? seen[0] : m;
  const trusted = Math.max(
    seen?.[2] ?? 0,
    trust,
    promoteAfter !== undefined && m - first >= promoteAfter ? 1 : 0,
  );
  map[name] = [first, m, trusted];
}

export type { AnomalyType, Episode };
