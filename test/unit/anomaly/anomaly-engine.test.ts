import { describe, expect, it } from "vitest";
import type { Anomaly, Severity } from "../../../lambdas/domain/anomaly/anomaly.js";
import { AnomalyEngine } from "../../../lambdas/domain/anomaly/anomaly-engine.js";
import { DEFAULT_THRESHOLDS } from "../../../lambdas/domain/anomaly/thresholds.js";
import type { NetworkOwner, TrafficRecord } from "../../../lambdas/domain/anomaly/traffic-batch.js";
import type { KeyLeakStatus } from "../../../lambdas/domain/anomaly/use-after-leak.js";

const DAY = 1_440;
const M0 = Date.UTC(2026, 0, 5) / 60_000; // a UTC midnight, as an epoch minute
const KEY = "0123456789abcdef";
const OTHER = "fedcba9876543210";
const COMCAST: NetworkOwner = { asn: 7922, provider: "comcast cable", hosting: false };
const AWS: NetworkOwner = { asn: 16509, provider: "amazon", hosting: true };
const HETZNER: NetworkOwner = { asn: 24940, provider: "hetzner online", hosting: true };
const DIGITALOCEAN: NetworkOwner = { asn: 14061, provider: "digitalocean", hosting: true };

function record(minute: number, fields: Partial<TrafficRecord> = {}): TrafficRecord {
  return {
    time: minute * 60_000,
    minute,
    cidr: "203.0.113.0/24",
    owner: AWS,
    country: "US",
    family: "node-fetch",
    status: 200,
    keyId: KEY,
    projectId: "p1",
    ...fields,
  };
}

function repeat(n: number, make: (i: number) => TrafficRecord): TrafficRecord[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

/** An engine plus everything it raised (each raise, and the episodes drained at the end). */
function harness(statuses: Map<string, KeyLeakStatus> = new Map()) {
  const raises: { anomaly: Anomaly; minute: number }[] = [];
  const engine = new AnomalyEngine({
    thresholds: DEFAULT_THRESHOLDS,
    pseudonym: (cidr) => `p${cidr.replace(/[^0-9a-f]/g, "").padEnd(12, "0")}`,
    trace: (anomaly, minute) => raises.push({ anomaly, minute }),
  });
  const feed = (records: TrafficRecord[]) => engine.ingest(records, statuses);
  const atLeast = (severity: Severity) =>
    raises.filter((r) =>
      severity === "medium" ? r.anomaly.severity !== "low" : r.anomaly.severity === "high",
    );
  return { engine, raises, feed, atLeast };
}

/** A server key's ordinary day: `perMinute` requests every minute from one AWS network. */
function serverDays(days: number, perMinute: number, extra?: (m: number) => TrafficRecord[]) {
  const out: TrafficRecord[][] = [];
  for (let m = M0; m < M0 + days * DAY; m++)
    out.push([...repeat(perMinute, () => record(m)), ...(extra?.(m) ?? [])]);
  return out;
}

describe("rate envelope", () => {
  it("learns an hourly cron's bursts as normal, then pages on 25x its peak from a new hosting network", () => {
    const h = harness();
    const cron = (m: number) => ((m - M0) % 60 === 0 ? repeat(90, () => record(m)) : []);
    for (let m = M0; m < M0 + 2 * DAY; m++) h.feed(cron(m));
    expect(h.atLeast("medium")).toEqual([]);
    const attack = M0 + 2 * DAY + 7;
    h.feed(
      repeat(2_500, () =>
        record(attack, { cidr: "88.198.1.0/24", owner: HETZNER, family: "python-requests" }),
      ),
    );
    h.feed([record(attack + 10)]);
    expect(h.atLeast("high").some((r) => r.anomaly.type === "rate_spike" && r.anomaly.keyId === KEY)).toBe(
      true,
    );
  });

  it("does not count 429 and 5xx retries as demand", () => {
    const h = harness();
    for (const minute of serverDays(1, 5)) h.feed(minute);
    const storm = M0 + DAY + 600;
    for (let m = storm; m < storm + 15; m++)
      h.feed(repeat(400, () => record(m, { status: m % 2 ? 429 : 503 })));
    h.feed([record(storm + 20)]);
    expect(h.raises.filter((r) => r.anomaly.type === "rate_spike")).toEqual([]);
  });

  it("reports a platform-wide spike as one low event, not one page per key", () => {
    const h = harness();
    const keys = Array.from({ length: 12 }, (_, i) => `${i.toString(16).padStart(2, "0")}23456789abcdef`);
    for (let m = M0; m < M0 + DAY + 60; m++) h.feed(keys.map((keyId) => record(m, { keyId })));
    const spike = M0 + DAY + 61;
    h.feed(keys.flatMap((keyId) => repeat(200, () => record(spike, { keyId }))));
    h.feed([record(spike + 5)]);
    const rate = h.raises.filter((r) => r.anomaly.type === "rate_spike");
    expect(rate.filter((r) => r.anomaly.keyId !== undefined)).toEqual([]);
    expect(rate.map((r) => r.anomaly.severity)).toEqual(["low"]);
  });
});

describe("network novelty", () => {
  it("pages on a new hosting provider with a new client, and only notes a known provider in a new region", () => {
    const h = harness();
    for (const minute of serverDays(1, 2)) h.feed(minute);
    const later = M0 + DAY + 100;
    h.feed([record(later, { cidr: "3.120.5.0/24", country: "DE" })]); // same provider, new region
    h.feed([record(later + 10, { cidr: "88.198.1.0/24", owner: HETZNER, family: "python-requests" })]);
    h.feed([record(later + 20)]);
    const novelty = h.raises.filter(
      (r) => r.anomaly.type === "new_country" || r.anomaly.type === "new_network",
    );
    expect(novelty.find((r) => r.anomaly.countries?.includes("DE"))?.anomaly.severity).toBe("low");
    expect(novelty.find((r) => r.anomaly.provider === "hetzner online")?.anomaly.severity).toBe("high");
  });

  it("does not trust a hosting network that appears during the learning period", () => {
    const h = harness();
    const owner = { cidr: "73.12.1.0/24", owner: COMCAST, family: "curl" };
    h.feed([record(M0, owner)]);
    const leaked = {
      cidr: "51.38.1.0/24",
      owner: { asn: 16276, provider: "ovh", hosting: true },
      country: "FR",
      family: "python-requests",
    };
    for (let m = M0 + 60; m < M0 + 600; m += 5) h.feed([record(m, leaked)]);
    expect(h.atLeast("medium").some((r) => r.anomaly.provider === "ovh")).toBe(true);
  });
});

describe("refusal velocity", () => {
  it("counts keyless and bad-checksum refusals per /24", () => {
    const h = harness();
    h.feed(
      repeat(250, (i) =>
        record(M0 + Math.floor(i / 60), {
          keyId: undefined,
          status: 401,
          cidr: "159.65.1.0/24",
          owner: DIGITALOCEAN,
        }),
      ),
    );
    const stuffing = h.atLeast("high").filter((r) => r.anomaly.type === "credential_stuffing");
    expect(stuffing[0]?.anomaly.ipPrefix).toBe("159.65.1.0/24");
  });

  it("sees stuffing spread over residential /24s (1 key each) in the global distinct-key count", () => {
    const h = harness();
    h.feed(
      repeat(150, (i) =>
        record(M0 + Math.floor(i / 40), {
          keyId: i.toString(16).padStart(16, "a"),
          status: 401,
          cidr: `73.${i}.1.0/24`,
          owner: COMCAST,
        }),
      ),
    );
    const global = h
      .atLeast("high")
      .find((r) => r.anomaly.type === "credential_stuffing" && !r.anomaly.ipPrefix && !r.anomaly.asn);
    expect(global?.anomaly.count).toBeGreaterThanOrEqual(DEFAULT_THRESHOLDS.refusals.globalHigh);
  });

  it("calls a handful of refused keys from one network stuffing when the set does not repeat", () => {
    const h = harness();
    h.feed(repeat(15, (i) => record(M0, { keyId: `${i.toString(16)}${"c".repeat(15)}`, status: 401 })));
    h.feed([record(M0 + 30, { keyId: undefined, status: 401, cidr: "198.51.100.0/24" })]);
    const verdicts = h.raises.filter((r) => r.anomaly.type === "credential_stuffing");
    expect(verdicts.map((r) => [r.anomaly.severity, r.anomaly.ipPrefix])).toEqual([
      ["medium", "203.0.113.0/24"],
    ]);
  });

  it("recognises the same few stale keys polled every 10 minutes as one low finding", () => {
    const h = harness();
    const stale = Array.from({ length: 12 }, (_, i) => `${i.toString(16)}${"b".repeat(15)}`);
    for (let m = M0; m < M0 + 6 * 60; m += 10)
      h.feed(stale.map((keyId) => record(m, { keyId, status: 401 })));
    const findings = h.raises.filter((r) => r.anomaly.type === "credential_stuffing");
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((r) => r.anomaly.severity === "low")).toBe(true);
  });
});

describe("use after leak", () => {
  const leakAt = M0 + DAY;
  const compromised: KeyLeakStatus = {
    status: "compromised",
    compromisedAt: new Date(leakAt * 60_000).toISOString(),
    incidentId: "inc-1",
  };

  it("is high from a network first seen shortly before the leak, medium from the owner's own", () => {
    const h = harness(new Map([[KEY, compromised]]));
    for (let m = M0; m < leakAt - 30; m += 10) h.feed([record(m)]);
    h.feed([record(leakAt - 20, { cidr: "185.220.101.0/24", owner: HETZNER })]);
    h.feed([record(leakAt + 5, { status: 403 })]);
    h.feed([record(leakAt + 100, { cidr: "185.220.101.0/24", owner: HETZNER, status: 403 })]);
    const leaks = h.raises.filter((r) => r.anomaly.type === "use_after_leak");
    expect(leaks.find((r) => r.minute === leakAt + 5)?.anomaly.severity).toBe("medium");
    expect(leaks.find((r) => r.minute === leakAt + 100)?.anomaly.severity).toBe("high");
    expect(leaks[0]?.anomaly.incidentId).toBe("inc-1");
  });

  it("is at least medium for a revoked key tried from a network its owner never used", () => {
    const revoked: KeyLeakStatus = { status: "revoked", revokedAt: new Date(M0 * 60_000).toISOString() };
    const h = harness(new Map([[OTHER, revoked]]));
    h.feed([record(M0 + 60, { keyId: OTHER, status: 401, cidr: "139.59.1.0/24", owner: DIGITALOCEAN })]);
    expect(h.raises.find((r) => r.anomaly.type === "use_after_leak")?.anomaly.severity).toBe("medium");
  });
});

describe("episodes", () => {
  it("folds a 30-minute attack into one anomaly with start, end and peak, alerted once", () => {
    const h = harness();
    for (const minute of serverDays(1, 3)) h.feed(minute);
    h.engine.drain();
    const from = M0 + DAY + 300;
    for (let m = from; m < from + 30; m++)
      h.feed(repeat(200 + (m - from) * 10, () => record(m, { cidr: "45.76.1.0/24", owner: HETZNER })));
    h.feed([record(from + 40)]);
    const changes = h.engine.drain().filter((c) => c.anomaly.type === "rate_spike");
    expect(changes).toHaveLength(1);
    const [episode] = changes;
    expect(episode?.alert).toBe(true);
    expect(episode?.anomaly.windowStart).toBe(new Date(from * 60_000).toISOString());
    expect(Date.parse(episode?.anomaly.windowEnd ?? "")).toBeGreaterThan((from + 25) * 60_000);
    expect(episode?.anomaly.count).toBe(200 + 29 * 10);
  });
});

describe("distinct networks per key", () => {
  it("finds low-and-slow use: many same-country networks a day on a one-network key", () => {
    const h = harness();
    for (let m = M0; m < M0 + DAY; m += 3)
      h.feed([record(m, { cidr: "73.12.1.0/24", owner: COMCAST, family: "curl" })]);
    const from = M0 + DAY + 600;
    for (let i = 0; i < 40; i++) {
      h.feed([record(from + i * 20, { cidr: `73.${100 + i}.7.0/24`, owner: COMCAST, family: "curl" })]);
    }
    h.feed([record(from + 900, { cidr: "73.12.1.0/24", owner: COMCAST, family: "curl" })]);
    expect(h.atLeast("medium").some((r) => r.anomaly.type === "ip_fanout")).toBe(true);
  });
});
