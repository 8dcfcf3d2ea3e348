import { type Anomaly, type AnomalyType, atLeast, MINUTE_MS, type Severity } from "./anomaly.js";

export type Evidence = Partial<
  Pick<
    Anomaly,
    "keyId" | "projectId" | "ipPrefix" | "countries" | "incidentId" | "asn" | "provider" | "reason"
  >
>;

export interface Episode {
  subject: string;
  type: AnomalyType;
  start: number;
  end: number;
  severity: Severity;
  count: number;
  peakAt: number;
  evidence: Evidence;
  alerted: boolean;
}

export interface EpisodeChange {
  subject: string;
  anomaly: Anomaly;
  /** First time this episode reached the alert floor: publish it (once per episode). */
  alert: boolean;
}

export function episodeAnomaly(e: Episode): Anomaly {
  return {
    type: e.type,
    severity: e.severity,
    ...e.evidence,
    windowStart: new Date(e.start * MINUTE_MS).toISOString(),
    windowEnd: new Date(e.end * MINUTE_MS).toISOString(),
    count: e.count,
    peakCount: e.count,
    peakAt: new Date(e.peakAt * MINUTE_MS).toISOString(),
  };
}

/**
 * Anomalies of one subject and type closer than `gapMinutes` are one episode: one stored item
 * (start, end, peak severity and count) updated as evidence comes in, and one alert, sent when
 * the episode first reaches the alert floor (issue 15 point 5).
 */
export class EpisodeTracker {
  private readonly open = new Map<string, Episode>();
  private readonly changed = new Set<Episode>();
  private readonly alerts = new Set<Episode>();

  constructor(
    private readonly gapMinutes: number,
    private readonly alertFloor: Severity,
    /** Every raise, for the evaluation's time-to-detect (not kept otherwise). */
    private readonly trace?: (anomaly: Anomaly, minute: number) => void,
  ) {}

  raise(
    subject: string,
    type: AnomalyType,
    severity: Severity,
    minute: number,
    count: number,
    evidence: Evidence,
  ) {
    const id = `${subject}|${type}`;
    let episode = this.open.get(id);
    if (episode && minute - episode.end > this.gapMinutes) episode = undefined;
    if (!episode) {
      episode = {
        subject,
        type,
        start: minute,
        end: minute + 1,
        severity,
        count,
        peakAt: minute,
        evidence,
        alerted: false,
      };
      this.open.set(id, episode);
      this.changed.add(episode);
    } else {
      const before = [episode.end, episode.severity, episode.count].join();
      episode.end = Math.max(episode.end, minute + 1);
      if (atLeast(severity, episode.severity) && severity !== episode.severity) {
        episode.severity = severity;
        episode.evidence = { ...episode.evidence, ...evidence };
      }
      if (count > episode.count) {
        episode.count = count;
        episode.peakAt = minute;
      }
      if ([episode.end, episode.severity, episode.count].join() !== before) this.changed.add(episode);
    }
    if (!episode.alerted && atLeast(episode.severity, this.alertFloor)) {
      episode.alerted = true;
      this.alerts.add(episode);
    }
    this.trace?.({ ...episodeAnomaly(episode), severity }, minute);
  }

  /** Episodes changed since the last drain (to store) and those to alert on; forgets closed ones. */
  drain(now: number): EpisodeChange[] {
    const out: EpisodeChange[] = [];
    for (const e of this.changed)
      out.push({ subject: e.subject, anomaly: episodeAnomaly(e), alert: this.alerts.has(e) });
    this.changed.clear();
    this.alerts.clear();
    for (const [id, e] of this.open) if (now - e.end > this.gapMinutes) this.open.delete(id);
    return out;
  }

  get size(): number {
    return this.open.size;
  }
}
