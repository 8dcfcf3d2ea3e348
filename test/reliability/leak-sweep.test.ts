import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type LocalMonitor, startLocalMonitor } from "../../bin/local/runner.js";
import { homePaths, readLocalSettings } from "../../bin/local/settings.js";
import { createOutboxAlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import { createAnomalyDetection } from "../../lambdas/adapters/anomaly-detection.js";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { createCountryResolver } from "../../lambdas/adapters/country-resolver.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { DEFAULT_THRESHOLDS } from "../../lambdas/domain/anomaly/thresholds.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { generateKey, keyHash, keyIdOf } from "../../lambdas/domain/key-format.js";

/**
 * The end-of-suite sweep: the whole local monitor runs (offline demo, a report through HTTP,
 * access logs from client IPs through the detector), then every table, the outbox and every
 * log line are searched for raw keys and full IP addresses.
 */
const home = mkdtempSync(join(tmpdir(), "keywatch-sweep-"));
const paths = homePaths(home);
const logLines: string[] = [];
const CLIENT_IPS = ["203.0.113.77", "198.51.100.23", "2001:db8:abcd:12::77"];
const rawKeys: string[] = [];
let monitor: LocalMonitor;
let corpus: { tables: string; outbox: string; logs: string };

async function until(what: string, condition: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function emailFiles(): string[] {
  return existsSync(paths.emails) ? readdirSync(paths.emails).filter((f) => f.endsWith(".eml")) : [];
}

beforeAll(async () => {
  // Arrange: capture everything the process prints (structured logs included).
  const stdout = vi.spyOn(process.stdout, "write");
  const stderr = vi.spyOn(process.stderr, "write");
  monitor = await startLocalMonitor(readLocalSettings({ PORT: "0", KEYWATCH_HOME: home }), {
    log: (line) => logLines.push(line),
  });
  rawKeys.push(...monitor.demoKeys);
  const { client, tables } = monitor.env;

  // A report through the real HTTP server, its text naming client IPs too.
  const reported = (
    await issueKey("sweep", "reported-owner@example.com", {
      keys: createKeyRepository(client, tables.keys),
      clock: systemClock,
    })
  ).rawKey;
  rawKeys.push(reported);
  const response = await fetch(`${monitor.url}/reports`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({
      text: `found ${reported} in a log from ${CLIENT_IPS[0]}`,
      email: "reporter@example.com",
    }),
  });
  expect(response.status).toBe(200);

  // Access logs from client IPs: a quarantined key used after the leak, and a stuffing burst.
  await until("the demo leak", () => emailFiles().length >= 1);
  const detection = createAnomalyDetection({
    client,
    tables,
    pepper: monitor.env.secrets.ipPepper,
    alerts: createOutboxAlertPublisher(paths.outbox),
    resolveCountry: createCountryResolver(),
    thresholds: DEFAULT_THRESHOLDS,
  });
  const batch = detection.batch();
  const now = Date.now();
  const line = (i: number, ip: string, key: string, status: number) =>
    JSON.stringify({
      requestId: `r${i}`,
      time: now + i,
      ip,
      method: "GET",
      path: "/v1/render",
      status,
      keyId: keyIdOf(keyHash(key)),
      userAgent: "sweep",
    });
  let i = 0;
  for (const key of rawKeys)
    for (const ip of CLIENT_IPS) detection.addInputLine(batch, line(i++, ip, key, 200));
  for (let k = 0; k < 40; k++) {
    const stranger = generateKey();
    rawKeys.push(stranger);
    detection.addInputLine(batch, line(i++, CLIENT_IPS[1] as string, stranger, 401));
  }
  const detected = await detection.detect(batch);
  expect(detected.anomalies.length).toBeGreaterThan(0);
  await until("the report's email", () => emailFiles().length >= 2);
  await new Promise((r) => setTimeout(r, 2_000)); // let the notifier finish the last alerts

  // Act: collect everything.
  const dump: unknown[] = [];
  for (const name of Object.values(tables)) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: name, ExclusiveStartKey: start }));
      dump.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
  }
  const outbox = [
    ...emailFiles().map((f) => readFileSync(join(paths.emails, f), "utf8")),
    existsSync(paths.alerts) ? readFileSync(paths.alerts, "utf8") : "",
  ];
  const printed = [...stdout.mock.calls, ...stderr.mock.calls].map((call) => String(call[0]));
  stdout.mockRestore();
  stderr.mockRestore();
  corpus = {
    tables: JSON.stringify(dump, (_k, v) => (v instanceof Set ? [...v] : v)),
    outbox: outbox.join("\n"),
    logs: [...logLines, ...printed].join("\n"),
  };
}, 180_000);

afterAll(async () => {
  await monitor?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("end-of-suite sweep", () => {
  it("really exercised the pipeline: anomalies, emails and alerts exist", () => {
    expect([
      corpus.tables.includes('"type":"use_after_leak"') &&
        corpus.tables.includes('"ipPrefix":"198.51.100.0/24"'),
      emailFiles().length >= 2,
      corpus.outbox.includes("incident_opened"),
    ]).toEqual([true, true, true]);
  });

  it("finds no raw key in any table, outbox file or log line", () => {
    const everywhere = `${corpus.tables}\n${corpus.outbox}\n${corpus.logs}`;
    expect(rawKeys.filter((key) => everywhere.includes(key))).toEqual([]);
  });

  it("finds no client IP address anywhere", () => {
    const everywhere = `${corpus.tables}\n${corpus.outbox}\n${corpus.logs}`;
    expect(CLIENT_IPS.filter((ip) => everywhere.includes(ip))).toEqual([]);
  });

  it("stores no full IPv4 address at all (not even the local server's 127.0.0.1 clients)", () => {
    expect(corpus.tables.match(/(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]|\/)/g) ?? []).toEqual([]);
  });
});
