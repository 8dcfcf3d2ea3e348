import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { PutCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { createOutboxAlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import { type AnomalyDetection, createAnomalyDetection } from "../../lambdas/adapters/anomaly-detection.js";
import { createNetworkOwnerResolver } from "../../lambdas/adapters/anomaly-network-owner.js";
import { createCountryResolver } from "../../lambdas/adapters/country-resolver.js";
import { type Anomaly, AnomalySchema } from "../../lambdas/domain/anomaly/anomaly.js";
import { DEFAULT_THRESHOLDS } from "../../lambdas/domain/anomaly/thresholds.js";
import { makeAnomalyDetectorHandler } from "../../lambdas/handlers/anomaly-detector.js";
import { generateAccessLogs } from "../support/access-log-generator.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";

const IPV4 = /\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g;

/** Every IPv4 address in an item that isn't a truncated /24 network address. */
function fullAddresses(text: string): string[] {
  return [...text.matchAll(IPV4)].filter((m) => !text.includes(`${m[0]}/24`)).map((m) => m[0]);
}

async function scan(tables: TestTables, name: string) {
  return (await tables.client.send(new ScanCommand({ TableName: name }))).Items ?? [];
}

describe("anomaly detection against DynamoDB Local", () => {
  let tables: TestTables;
  let detection: AnomalyDetection;
  let outbox: string;
  const stream = generateAccessLogs({ seed: 3, keys: 12, hours: 12 });
  let events = 0;
  let keyMinutes = 0;
  const raised: Anomaly[] = [];

  beforeAll(async () => {
    tables = await createTestTables();
    outbox = mkdtempSync(join(tmpdir(), "keywatch-outbox-"));
    // The leaked keys are registered as the leak-response code writes them.
    for (const [keyId, status] of stream.registry) {
      await tables.client.send(
        new PutCommand({
          TableName: tables.names.keys,
          Item: { keyHash: `${keyId}${"0".repeat(48)}`, keyId, ...status },
        }),
      );
    }
    detection = createAnomalyDetection({
      client: tables.client,
      tables: tables.names,
      pepper: "integration-pepper",
      alerts: createOutboxAlertPublisher(outbox),
      resolveCountry: createCountryResolver(),
      resolveOwner: createNetworkOwnerResolver(),
      thresholds: DEFAULT_THRESHOLDS,
    });
    // The whole stream as ten-minute batches of subscription events through the same code path.
    for (let from = 0; from < stream.minutes; from += 10) {
      const batch = detection.batch();
      const messages: { id: string; timestamp: number; message: string }[] = [];
      for (let m = from; m < from + 10; m++) {
        for (const message of stream.minuteLines(m)) messages.push({ id: "1", timestamp: 0, message });
      }
      const event = JSON.stringify({
        awslogs: {
          data: gzipSync(JSON.stringify({ messageType: "DATA_MESSAGE", logEvents: messages })).toString(
            "base64",
          ),
        },
      });
      detection.addInputLine(batch, event);
      events += messages.length;
      const active = new Set<string>();
      for (const r of batch.records) if (r.keyId && r.status === 200) active.add(`${r.keyId}|${r.minute}`);
      keyMinutes += active.size;
      const final = from + 10 >= stream.minutes;
      raised.push(...(await detection.detect(batch, { final })).anomalies);
    }
  }, 240_000);

  it("writes at most once per active key-minute, profiles included", async () => {
    const profiles = (await scan(tables, tables.names.state)).filter((i) => i.sk === "PROFILE");
    expect(profiles.length).toBeGreaterThan(0);
    expect(detection.writes.writes).toBeLessThanOrEqual(keyMinutes);
    expect(detection.writes.writes / events).toBeLessThan(0.1);
  });

  it("keeps a profile item small (bounded maps, pseudonymous networks)", async () => {
    const profiles = (await scan(tables, tables.names.state)).filter((i) => i.sk === "PROFILE");
    const largest = Math.max(...profiles.map((item) => JSON.stringify(item).length));
    expect(largest).toBeLessThan(8_192);
  });

  it("sets the TTL attribute on every item it writes", async () => {
    const items = [
      ...(await scan(tables, tables.names.state)),
      ...(await scan(tables, tables.names.anomalies)),
    ];
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(item.expiresAt, JSON.stringify(item.pk)).toBeTypeOf("number");
  });

  it("persists no full IP address in any item", async () => {
    const items = [
      ...(await scan(tables, tables.names.state)),
      ...(await scan(tables, tables.names.anomalies)),
    ];
    const text = JSON.stringify(items, (_k, v) => (v instanceof Set ? [...v] : v));
    expect(fullAddresses(text)).toEqual([]);
    expect(text).not.toMatch(/2001:db8:[0-9a-f]+:[0-9a-f]+::[0-9a-f]+/);
  });

  it("stores the anomalies it raised, queryable by time and by key", async () => {
    const byTime = await detection.repository.listByTime({
      from: new Date(stream.start),
      to: new Date(stream.start + stream.minutes * 60_000),
    });
    // One item per episode (subject, type, start): each update of an episode replaces its item.
    const identity = (a: Anomaly) => [a.type, a.keyId ?? a.ipPrefix ?? a.asn, a.windowStart].join("|");
    expect(new Set(byTime.map(identity))).toEqual(new Set(raised.map(identity)));
    const leaked = stream.newNetworkUse[0]?.keyId as string;
    const byKey = await detection.repository.listByKey(leaked);
    expect(byKey.some((a) => a.type === "use_after_leak" && a.incidentId !== undefined)).toBe(true);
  });

  it("never overwrites the console's triage when it updates an episode", async () => {
    const stored = (await scan(tables, tables.names.anomalies))[0] as Record<string, unknown>;
    const triage = { state: "acknowledged", by: "analyst", at: "2026-01-01T00:00:00.000Z", reason: "known" };
    await tables.client.send(
      new PutCommand({ TableName: tables.names.anomalies, Item: { ...stored, triage } }),
    );
    const anomaly = AnomalySchema.parse(
      Object.fromEntries(Object.entries(stored).filter(([k]) => k in AnomalySchema.shape)),
    );
    const subject = String(stored.pk).slice("ANOMALY#".length);
    await detection.repository.save([{ subject, anomaly: { ...anomaly, count: anomaly.count + 1 } }]);
    const after = (await scan(tables, tables.names.anomalies)).find(
      (i) => i.pk === stored.pk && i.sk === stored.sk,
    );
    expect(after?.triage).toEqual(triage);
    expect(after?.count).toBe(anomaly.count + 1);
  });

  it("publishes high-severity anomalies to the outbox, one per episode", async () => {
    const alerts = readFileSync(join(outbox, "alerts.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { topic: string; message: Anomaly & { suppressedRepeats: number } });
    const hours = alerts.map(
      (a) =>
        `${a.message.keyId ?? a.message.ipPrefix ?? a.message.asn}|${a.message.type}|${a.message.windowStart}`,
    );
    expect(alerts.every((a) => a.topic === "security" && a.message.severity === "high")).toBe(true);
    expect(new Set(hours).size).toBe(hours.length);
    expect(alerts.some((a) => a.message.type === "use_after_leak" && a.message.incidentId)).toBe(true);
  });
});

describe("anomaly-detector handler", () => {
  const logger = { info: () => {}, warn: () => {}, error: () => {} };

  it("drops a malformed subscription event without touching state", async () => {
    let wired = false;
    const handler = makeAnomalyDetectorHandler({
      logger,
      detection: async () => {
        wired = true;
        throw new Error("must not be reached");
      },
    });
    const summary = await handler({ awslogs: { data: Buffer.from("garbage").toString("base64") } });
    expect(summary.rejected).toMatch(/gzip/);
    expect(wired).toBe(false);
  });

  it("acknowledges CONTROL_MESSAGE without processing", async () => {
    const handler = makeAnomalyDetectorHandler({
      logger,
      detection: async () => {
        throw new Error("must not be reached");
      },
    });
    const data = gzipSync(JSON.stringify({ messageType: "CONTROL_MESSAGE", logEvents: [] })).toString(
      "base64",
    );
    expect(await handler({ awslogs: { data } })).toMatchObject({ control: true, lines: 0 });
  });
});
