import type { Anomaly } from "../domain/anomaly/anomaly.js";
import type { KeyProfile } from "../domain/anomaly/key-profile.js";
import type {
  AnomalyAlert,
  AnomalyAlertPublisher,
  AnomalyStore,
  ProfileStore,
} from "../domain/anomaly/ports.js";

/**
 * The anomaly ports in memory, with the DynamoDB adapters' semantics (profiles by key, episodes
 * updated in place by subject + type + start): for unit tests and the benchmark's detect-only run.
 */
export class InMemoryAnomalyState implements ProfileStore, AnomalyStore, AnomalyAlertPublisher {
  readonly profiles = new Map<string, KeyProfile>();
  readonly stored = new Map<string, Anomaly>();
  readonly published: AnomalyAlert[] = [];
  profileWrites = 0;
  anomalyWrites = 0;

  async loadProfiles(keyIds: readonly string[]): Promise<Map<string, KeyProfile>> {
    const found = new Map<string, KeyProfile>();
    for (const keyId of keyIds) {
      const profile = this.profiles.get(keyId);
      if (profile) found.set(keyId, structuredClone(profile));
    }
    return found;
  }

  async saveProfiles(profiles: readonly [string, KeyProfile][]): Promise<void> {
    for (const [keyId, profile] of profiles) {
      this.profileWrites++;
      this.profiles.set(keyId, structuredClone(profile));
    }
  }

  async save(anomalies: readonly { anomaly: Anomaly; subject: string }[]): Promise<void> {
    for (const { anomaly, subject } of anomalies) {
      this.anomalyWrites++;
      this.stored.set(`${subject}|${anomaly.type}|${anomaly.windowStart}`, anomaly);
    }
  }

  async publishAnomaly(alert: AnomalyAlert): Promise<void> {
    this.published.push(alert);
  }
}
