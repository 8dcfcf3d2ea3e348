import { type Anomaly, atLeast, type Severity } from "./anomaly.js";
import { AnomalyEngine } from "./anomaly-engine.js";
import type { AnomalyAlertPublisher, AnomalyStore, KeyStatusLookup, ProfileStore } from "./ports.js";
import type { AnomalyThresholds } from "./thresholds.js";
import { isAuthFailure, type SkipReason, type TrafficBatch } from "./traffic-batch.js";

/**
 * Log minutes between state flushes: each flush writes every key changed since the last one
 * once, so writes per active key-minute stay <= 1 whatever the batch size; an environment
 * recycled between flushes loses at most this much profile learning (never an alert).
 */
export const DEFAULT_FLUSH_MINUTES = 5;

export interface DetectAnomaliesDeps {
  profiles: ProfileStore;
  anomalies: AnomalyStore;
  alerts: AnomalyAlertPublisher;
  keyStatus: KeyStatusLookup;
  thresholds: AnomalyThresholds;
  /** HMAC(pepper, truncated network): the only form of a network used as a join key. */
  pseudonym: (cidr: string) => string;
  /** Episodes at or above this are alerted on, once each. */
  alertSeverity?: Severity;
  /** Profiles and episode updates are written when the log time has moved this far (or `maxDirty` keys changed). */
  flushEveryMinutes?: number;
  maxDirty?: number;
  /** Every raise with its minute (the evaluation's time to detect). */
  trace?: (anomaly: Anomaly, minute: number) => void;
}

export interface DetectionResult {
  /** Episodes opened or changed by this batch (stored now or at the next flush). */
  anomalies: Anomaly[];
  accepted: number;
  skipped: Record<SkipReason, number>;
  keysEvaluated: number;
  alertsPublished: number;
  alertsSuppressed: number;
  flushed: boolean;
}

/**
 * The anomaly use case, long-lived across a Lambda environment's invocations (issue 15 point 6):
 * state stays in memory, profiles are loaded once per key and written in batches on a schedule
 * or when many changed; an episode that reaches the alert floor is stored and published at once.
 */
export class AnomalyDetector {
  readonly engine: AnomalyEngine;
  private readonly pendingEpisodes = new Map<string, { anomaly: Anomaly; subject: string }>();
  private lastFlush = Number.NEGATIVE_INFINITY;
  private refusedOnce = new Set<string>();

  constructor(private readonly deps: DetectAnomaliesDeps) {
    this.engine = new AnomalyEngine({
      thresholds: deps.thresholds,
      pseudonym: deps.pseudonym,
      alertFloor: deps.alertSeverity ?? "high",
      ...(deps.trace ? { trace: deps.trace } : {}),
    });
  }

  async process(batch: TrafficBatch, options: { final?: boolean } = {}): Promise<DetectionResult> {
    const ids = new Set<string>();
    const acceptedKeys = new Set<string>();
    for (const r of batch.records) {
      if (r.keyId === undefined) continue;
      if (r.status !== undefined && r.status < 400) acceptedKeys.add(r.keyId);
      // A refused key is looked up from its second sighting: a stuffer's one-shot guesses would
      // otherwise cost one registry query each; a revoked key tried again, or polled, is looked up.
      if (acceptedKeys.has(r.keyId) || this.refusedOnce.has(r.keyId) || !isAuthFailure(r.status))
        ids.add(r.keyId);
      else this.rememberRefused(r.keyId);
    }
    const statuses = await this.deps.keyStatus([...ids]);
    // Profiles of keys this environment has not met yet (registry keys, or accepted by the authorizer).
    const fresh = [...ids].filter(
      (id) => !this.engine.knows(id) && (statuses.has(id) || acceptedKeys.has(id)),
    );
    if (fresh.length > 0) {
      for (const [keyId, profile] of await this.deps.profiles.loadProfiles(fresh))
        this.engine.adopt(keyId, profile);
    }
    this.engine.ingest(batch.records, statuses);
    if (options.final) this.engine.finish();
    const result: DetectionResult = {
      anomalies: [],
      accepted: batch.accepted,
      skipped: { ...batch.skipped },
      keysEvaluated: fresh.length,
      alertsPublished: 0,
      alertsSuppressed: 0,
      flushed: false,
    };
    const urgent: { anomaly: Anomaly; subject: string }[] = [];
    const floor = this.deps.alertSeverity ?? "high";
    for (const change of this.engine.drain()) {
      result.anomalies.push(change.anomaly);
      const id = `${change.subject}|${change.anomaly.type}|${change.anomaly.windowStart}`;
      this.pendingEpisodes.set(id, { anomaly: change.anomaly, subject: change.subject });
      if (change.alert && atLeast(change.anomaly.severity, floor))
        urgent.push({ anomaly: change.anomaly, subject: change.subject });
    }
    if (urgent.length > 0) {
      // Stored before it is published: an alert always points at an item the console can show.
      await this.deps.anomalies.save(urgent);
      for (const { anomaly } of urgent) {
        await this.deps.alerts.publishAnomaly({ kind: "anomaly", anomaly, suppressedRepeats: 0 });
        result.alertsPublished++;
      }
    }
    const every = this.deps.flushEveryMinutes ?? DEFAULT_FLUSH_MINUTES;
    if (
      options.final ||
      this.engine.now - this.lastFlush >= every ||
      this.engine.dirty.size >= (this.deps.maxDirty ?? 2_000)
    ) {
      await this.flush();
      result.flushed = true;
    }
    return result;
  }

  private rememberRefused(keyId: string): void {
    if (this.refusedOnce.size >= 100_000) this.refusedOnce = new Set();
    this.refusedOnce.add(keyId);
  }

  /** Writes changed profiles and episodes (batch writes; each profile at most once per flush). */
  async flush(): Promise<void> {
    const profiles = [...this.engine.dirty].flatMap((keyId) => {
      const profile = this.engine.profiles.get(keyId);
      return profile ? [[keyId, profile] as [string, typeof profile]] : [];
    });
    this.engine.dirty.clear();
    if (profiles.length > 0) await this.deps.profiles.saveProfiles(profiles);
    const episodes = [...this.pendingEpisodes.values()];
    this.pendingEpisodes.clear();
    if (episodes.length > 0) await this.deps.anomalies.save(episodes);
    this.lastFlush = this.engine.now;
  }
}
