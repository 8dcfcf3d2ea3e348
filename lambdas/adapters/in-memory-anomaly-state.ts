import type { Anomaly } from "../domain/anomaly/anomaly.js";
import type { KeyBaseline } from "../domain/anomaly/key-baseline.js";
import type {
  AlertGate,
  AnomalyAlert,
  AnomalyAlertPublisher,
  AnomalyStore,
  StoredBaseline,
  TrafficStateStore,
} from "../domain/anomaly/ports.js";

/**
 * The anomaly ports in memory, with the same semantics as the DynamoDB adapters (versioned
 * baselines, hourly alert gate): for unit tests and the benchmark's detect-only run.
 */
export class InMemoryAnomalyState
  implements TrafficStateStore, AnomalyStore, AlertGate, AnomalyAlertPublisher
{
  readonly baselines = new Map<string, StoredBaseline>();
  readonly refused = new Map<string, Set<string>>();
  readonly stored = new Map<string, Anomaly>();
  readonly published: AnomalyAlert[] = [];
  private readonly gates = new Map<string, { hour: number | undefined; pending: number }>();
  baselineWrites = 0;

  async loadBaselines(keyIds: readonly string[]): Promise<Map<string, StoredBaseline>> {
    const found = new Map<string, StoredBaseline>();
    for (const keyId of keyIds) {
      const item = this.baselines.get(keyId);
      if (item) found.set(keyId, item);
    }
    return found;
  }

  async saveBaseline(keyId: string, baseline: KeyBaseline, expected: number | undefined): Promise<boolean> {
    if (this.baselines.get(keyId)?.version !== expected) return false;
    this.baselineWrites++;
    this.baselines.set(keyId, { baseline, version: (expected ?? 0) + 1 });
    return true;
  }

  async addRefusedKeys(clientId: string, windowStart: number, keyIds: readonly string[]) {
    const id = `${clientId}|${windowStart}`;
    const set = this.refused.get(id) ?? new Set<string>();
    const before = set.size;
    for (const keyId of keyIds) set.add(keyId);
    this.refused.set(id, set);
    return { before, after: set.size };
  }

  async save(anomalies: readonly { anomaly: Anomaly; subject: string }[]): Promise<void> {
    for (const { anomaly, subject } of anomalies) {
      this.stored.set(
        `${subject}|${anomaly.windowStart}|${anomaly.type}|${anomaly.countries?.join()}`,
        anomaly,
      );
    }
  }

  async admit(subject: string, anomaly: Anomaly) {
    const id = `${subject}|${anomaly.type}`;
    const gate = this.gates.get(id) ?? { hour: undefined, pending: 0 };
    gate.pending++;
    this.gates.set(id, gate);
    const hour = Math.floor(Date.parse(anomaly.windowStart) / 3_600_000);
    return { alert: gate.hour !== hour, suppressedRepeats: gate.pending - 1 };
  }

  async alerted(subject: string, anomaly: Anomaly): Promise<void> {
    this.gates.set(`${subject}|${anomaly.type}`, {
      hour: Math.floor(Date.parse(anomaly.windowStart) / 3_600_000),
      pending: 0,
    });
  }

  async publishAnomaly(alert: AnomalyAlert): Promise<void> {
    this.published.push(alert);
  }
}
