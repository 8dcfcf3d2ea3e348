import { type Anomaly, atLeast, minuteWindow, type Severity } from "./anomaly.js";
import { detectCredentialStuffing } from "./credential-stuffing.js";
import { evaluateKey, type KeyBaseline } from "./key-baseline.js";
import type {
  AlertGate,
  AnomalyAlertPublisher,
  AnomalyStore,
  KeyStatusLookup,
  StoredBaseline,
  TrafficStateStore,
} from "./ports.js";
import type { AnomalyThresholds } from "./thresholds.js";
import type { KeyTraffic, SkipReason, TrafficBatch } from "./traffic-batch.js";

export interface DetectAnomaliesDeps {
  state: TrafficStateStore;
  anomalies: AnomalyStore;
  alertGate: AlertGate;
  alerts: AnomalyAlertPublisher;
  keyStatus: KeyStatusLookup;
  thresholds: AnomalyThresholds;
  /** HMAC(pepper, truncated network): the only form of a network used as a join key. */
  pseudonym: (cidr: string) => string;
  /** Anomalies at or above this are alerted on. */
  alertSeverity?: Severity;
}

export interface DetectionResult {
  anomalies: Anomaly[];
  accepted: number;
  skipped: Record<SkipReason, number>;
  keysEvaluated: number;
  alertsPublished: number;
  alertsSuppressed: number;
}

export class ConcurrentBaselineUpdateError extends Error {
  constructor(keyId: string, options?: { cause?: unknown }) {
    super(`baseline of key ${keyId} kept changing under concurrent batches`, options);
    this.name = "ConcurrentBaselineUpdateError";
  }
}

const SAVE_ATTEMPTS = 4;

/**
 * The anomaly use case: a batch of access-log traffic in, anomalies stored and high-severity
 * ones alerted. Anomalies and alerts are written before the baselines, so a batch retried after a
 * crash re-raises what it lost (anomaly writes are idempotent, alerts gated per hour).
 */
export async function detectAnomalies(
  batch: TrafficBatch,
  deps: DetectAnomaliesDeps,
): Promise<DetectionResult> {
  const t = deps.thresholds;
  // Most-used keys first: the lookup may cap how many unknown ids it resolves per batch.
  const byUse = [...batch.keys.values()].sort((a, b) => b.accepted - a.accepted || b.requests - a.requests);
  const statuses = await deps.keyStatus(byUse.map((k) => k.keyId));
  // A key is ours if the registry knows it or the authorizer accepted it; refused unknown keys
  // only count towards credential stuffing (no baseline per guessed key).
  const keys = byUse.filter((k) => statuses.has(k.keyId) || k.accepted > 0);
  const stored = await deps.state.loadBaselines(keys.map((k) => k.keyId));
  const result: DetectionResult = {
    anomalies: [],
    accepted: batch.accepted,
    skipped: { ...batch.skipped },
    keysEvaluated: keys.length,
    alertsPublished: 0,
    alertsSuppressed: 0,
  };

  const evaluate = (key: KeyTraffic, previous: StoredBaseline | undefined) => {
    const status = statuses.get(key.keyId);
    const projectId = key.projectId ?? status?.projectId;
    return evaluateKey({
      keyId: key.keyId,
      ...(projectId !== undefined ? { projectId } : {}),
      baseline: previous?.baseline,
      traffic: key,
      status,
      thresholds: t,
      pseudonym: deps.pseudonym,
    });
  };

  const pending = new Map<string, { key: KeyTraffic; baseline: KeyBaseline; version: number | undefined }>();
  const raised: { anomaly: Anomaly; subject: string }[] = [];
  for (const key of keys) {
    const previous = stored.get(key.keyId);
    const evaluation = evaluate(key, previous);
    pending.set(key.keyId, { key, baseline: evaluation.baseline, version: previous?.version });
    for (const anomaly of evaluation.anomalies) raised.push({ anomaly, subject: `KEY#${key.keyId}` });
  }

  for (const client of batch.clients.values()) {
    if (client.keyIds.size === 0) continue;
    const clientId = deps.pseudonym(client.cidr);
    const counts = await deps.state.addRefusedKeys(clientId, client.windowStart, [...client.keyIds]);
    const severity = detectCredentialStuffing(counts.before, counts.after, t);
    if (!severity) continue;
    raised.push({
      subject: `CLIENT#${clientId}`,
      anomaly: {
        type: "credential_stuffing",
        severity,
        ipPrefix: client.cidr,
        ...minuteWindow(client.windowStart, t.credentialStuffing.windowMinutes),
        count: counts.after,
      },
    });
  }

  await publish(raised, deps, result);

  for (const [keyId, entry] of pending) {
    let { baseline, version } = entry;
    for (let attempt = 1; ; attempt++) {
      if (await deps.state.saveBaseline(keyId, baseline, version)) break;
      if (attempt === SAVE_ATTEMPTS) throw new ConcurrentBaselineUpdateError(keyId);
      // Another batch wrote first: start again from its baseline (evaluateKey is pure).
      const fresh = (await deps.state.loadBaselines([keyId])).get(keyId);
      const evaluation = evaluate(entry.key, fresh);
      baseline = evaluation.baseline;
      version = fresh?.version;
      await publish(
        evaluation.anomalies.map((anomaly) => ({ anomaly, subject: `KEY#${keyId}` })),
        deps,
        result,
      );
    }
  }
  return result;
}

async function publish(
  raised: { anomaly: Anomaly; subject: string }[],
  deps: DetectAnomaliesDeps,
  result: DetectionResult,
): Promise<void> {
  if (raised.length === 0) return;
  await deps.anomalies.save(raised);
  const floor = deps.alertSeverity ?? "high";
  for (const { anomaly, subject } of raised) {
    result.anomalies.push(anomaly);
    if (!atLeast(anomaly.severity, floor)) continue;
    const gate = await deps.alertGate.admit(subject, anomaly);
    if (!gate.alert) {
      result.alertsSuppressed++;
      continue;
    }
    await deps.alerts.publishAnomaly({ kind: "anomaly", anomaly, suppressedRepeats: gate.suppressedRepeats });
    await deps.alertGate.alerted(subject, anomaly);
    result.alertsPublished++;
  }
}
