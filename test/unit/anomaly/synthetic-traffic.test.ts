import { describe, expect, it } from "vitest";
import { InMemoryAnomalyState } from "../../../lambdas/adapters/in-memory-anomaly-state.js";
import type { Anomaly } from "../../../lambdas/domain/anomaly/anomaly.js";
import { detectAnomalies } from "../../../lambdas/domain/anomaly/detect-anomalies.js";
import { DEFAULT_THRESHOLDS } from "../../../lambdas/domain/anomaly/thresholds.js";
import { TrafficBatch } from "../../../lambdas/domain/anomaly/traffic-batch.js";
import { hmacSha256Hex } from "../../../lambdas/domain/ip-prefix.js";
import {
  type AccessLogStream,
  generateAccessLogs,
  scoreDetection,
} from "../../support/access-log-generator.js";

const runs = new Map<string, ReturnType<typeof runStream>>();

/** The same seeded stream is detected once per file; each test asserts one behaviour of the run. */
function run(options: { seed: number; attacks?: boolean }) {
  const id = JSON.stringify(options);
  const stream = generateAccessLogs(options);
  if (!runs.has(id)) runs.set(id, runStream(stream));
  return { stream, result: runs.get(id) as ReturnType<typeof runStream> };
}

/** Feeds the stream in 5-minute batches, as a subscription would, through the real use case. */
async function runStream(stream: AccessLogStream) {
  const state = new InMemoryAnomalyState();
  const anomalies: Anomaly[] = [];
  for (let from = 0; from < stream.minutes; from += 5) {
    const batch = new TrafficBatch(DEFAULT_THRESHOLDS, () => undefined);
    for (let m = from; m < Math.min(from + 5, stream.minutes); m++) {
      for (const line of stream.minuteLines(m)) batch.addLine(line);
    }
    const result = await detectAnomalies(batch, {
      state,
      anomalies: state,
      alertGate: state,
      alerts: state,
      thresholds: DEFAULT_THRESHOLDS,
      keyStatus: async (ids) =>
        new Map(
          ids.flatMap((id) => {
            const status = stream.registry.get(id);
            return status ? [[id, status] as const] : [];
          }),
        ),
      pseudonym: (cidr) => hmacSha256Hex("test-pepper", cidr).slice(0, 32),
    });
    anomalies.push(...result.anomalies);
  }
  return { anomalies, state };
}

describe("synthetic traffic: 50 keys over 24 h with injected attacks", () => {
  it("finds every injected attack of every type", async () => {
    const { stream, result } = run({ seed: 7 });
    const { anomalies } = await result;
    const score = scoreDetection(stream.attacks, anomalies, stream.start);
    for (const row of score) expect(row, row.type).toMatchObject({ recall: 1 });
    expect(score.map((r) => r.type)).toEqual([
      "credential_stuffing",
      "ip_fanout",
      "new_country",
      "rate_spike",
      "use_after_leak",
    ]);
  }, 60_000);

  it("raises use_after_leak as high for a new network after the leak, linked to the incident", async () => {
    const { stream, result } = run({ seed: 7 });
    const { anomalies } = await result;
    for (const use of stream.newNetworkUse) {
      const high = anomalies.filter(
        (a) => a.type === "use_after_leak" && a.keyId === use.keyId && a.severity === "high",
      );
      expect(high.length).toBeGreaterThan(0);
      expect(high[0]?.incidentId).toBe(stream.registry.get(use.keyId)?.incidentId);
    }
  }, 60_000);

  it("alerts once per key and type per hour, counting the held-back repeats", async () => {
    const { result } = run({ seed: 7 });
    const { anomalies, state } = await result;
    const high = anomalies.filter((a) => a.severity === "high");
    const perHour = new Set(
      high.map(
        (a) => `${a.keyId ?? a.ipPrefix}|${a.type}|${Math.floor(Date.parse(a.windowStart) / 3_600_000)}`,
      ),
    );
    expect(state.published).toHaveLength(perHour.size);
    expect(high.length).toBeGreaterThan(perHour.size);
  }, 60_000);
});

describe("synthetic traffic: the clean stream", () => {
  it("raises no high-severity anomaly", async () => {
    const { result } = run({ seed: 11, attacks: false });
    const { anomalies, state } = await result;
    expect(anomalies.filter((a) => a.severity === "high")).toEqual([]);
    expect(state.published).toEqual([]);
  }, 60_000);
});
