import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { localRoutes } from "../../bin/local/runner.js";
import { type StreamPump, startStreamPump } from "../../bin/local/stream-pump.js";
import type { AlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import type { EmailSender } from "../../lambdas/adapters/email-sender.js";
import type { Route } from "../../lambdas/adapters/local-http.js";
import { createNotificationLedger } from "../../lambdas/adapters/notification-ledger.js";
import { readScannerHealth } from "../../lambdas/adapters/scanner-health.js";
import { createUnknownKeyWindows } from "../../lambdas/adapters/unknown-key-windows.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";
import type { Alert } from "../../lambdas/domain/security-alert.js";
import { transitionIncident } from "../../lambdas/domain/transition-incident.js";
import {
  DIGEST_GRACE_MS,
  DIGEST_WINDOW_MS,
  sendUnknownKeyDigests,
} from "../../lambdas/domain/unknown-key-digest.js";
import { makeNotifierHandler, notifierDeps } from "../../lambdas/handlers/notifier.js";
import type { TestTables } from "../support/dynamodb.js";
import { httpEvent } from "../support/http-event.js";
import type { TestSigningKey } from "../support/partner-keys.js";
import { dumpTables, reliabilityContext } from "./local-context.js";

/**
 * Floods of minted keys (the checksum is public, so anyone can make valid-looking keys) through
 * the real local routes, notifier and digest sender, counting every alert and email that results.
 */

/** GitHub's partner endpoint deadline (and API Gateway's integration limit). */
const GITHUB_BUDGET_MS = 30_000;

let routes: Route[];
let t: TestTables;
let signer: TestSigningKey;
let pump: StreamPump;
let alerts: Alert[] = [];
let emails: string[] = [];
let ownerCount = 0;
/**
 * The monitor's clock runs ahead by `offset`: after each case's digest the clock moves into the
 * next window, so every case has windows of its own (as if each flood came a quarter-hour apart).
 */
let offset = 0;
const clock = { now: () => new Date(Date.now() + offset) };

beforeAll(async () => {
  process.env.KEYWATCH_REPORT_RATE_LIMIT = "1000000";
  const built = await reliabilityContext();
  ({ t, signer } = built);
  routes = localRoutes({ ...built.ctx, clock });
  const email: EmailSender = {
    async send(message) {
      emails.push(decodeQuotedPrintable(Buffer.from(message.raw).toString("utf8")));
    },
  };
  const publisher: AlertPublisher = {
    async publish(alert) {
      alerts.push(alert);
    },
  };
  const handler = makeNotifierHandler(
    notifierDeps({
      client: t.client,
      tables: t.names,
      email,
      alerts: publisher,
      sender: "security@example.com",
    }),
  );
  pump = await startStreamPump({
    endpoint: t.endpoint,
    tableName: t.names.incidents,
    handler,
    pollMs: 50,
    batchSize: 100,
  });
});

afterAll(async () => {
  await pump?.stop();
});

beforeEach(async () => {
  // Each case counts only what it caused: earlier cases' notifications are finished first.
  await settle();
  alerts = [];
  emails = [];
});

/** The email as a reader sees it: the MIME parts are quoted-printable (soft breaks, `=3D`). */
function decodeQuotedPrintable(raw: string): string {
  const joined = raw.replace(/=\r?\n/g, "");
  return Buffer.from(
    joined.replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    "latin1",
  ).toString("utf8");
}

function route(key: string): Route {
  const found = routes.find((r) => `${r.method} ${r.path}` === key);
  if (!found) throw new Error(`no route ${key}`);
  return found;
}

async function ownersKey(): Promise<string> {
  const { rawKey } = await issueKey(`flood-${ownerCount}`, `owner-${ownerCount++}@example.com`, {
    keys: createKeyRepository(t.client, t.names.keys),
    clock,
  });
  return rawKey;
}

/** Every stream record handled, then every closed unknown-key window digested (as the schedule would). */
async function settle(): Promise<void> {
  // Stream records can show up a poll late on a busy DynamoDB Local: drain until nothing new arrives.
  for (let round = 0, before = -1; round < 10 && before !== alerts.length + emails.length; round++) {
    before = alerts.length + emails.length;
    await pump.drained(120_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await pump.drained(120_000);
  }
  await sendUnknownKeyDigests({
    windows: createUnknownKeyWindows(t.client, t.names.incidents),
    incidents: createIncidentRepository(t.client, t.names.incidents),
    ledger: createNotificationLedger(t.client, t.names.notifications),
    async publish(alert) {
      alerts.push(alert);
    },
    // The schedule runs later: as if it ran after the current window closed.
    clock: { now: () => new Date(clock.now().getTime() + DIGEST_WINDOW_MS + DIGEST_GRACE_MS + 1_000) },
  });
  offset += DIGEST_WINDOW_MS;
}

const kinds = () => alerts.map((a) => String(a.message.kind)).sort();
const count = (kind: string) => alerts.filter((a) => a.message.kind === kind).length;

async function report(fields: Record<string, string>) {
  const started = performance.now();
  const result = await route("POST /reports").handler(
    httpEvent("POST /reports", {
      headers: { "content-type": "application/json", host: "127.0.0.1" },
      body: JSON.stringify(fields),
      sourceIp: `203.0.113.${ownerCount % 250}`,
    }),
  );
  return { status: result.statusCode ?? 200, ms: performance.now() - started, body: String(result.body) };
}

async function delivery(
  tokens: string[],
  urlOf: (i: number) => string = (i) => `https://github.com/octo/flood/blob/${i}/k.env`,
) {
  const body = JSON.stringify(
    tokens.map((token, i) => ({ token, type: "smelter_api_key", url: urlOf(i), source: "commit" })),
  );
  const started = performance.now();
  const result = await route("POST /github/secret-scanning").handler(
    httpEvent("POST /github/secret-scanning", {
      headers: {
        "content-type": "application/json",
        "github-public-key-identifier": signer.keyIdentifier,
        "github-public-key-signature": signer.sign(body),
      },
      body,
    }),
  );
  return { status: result.statusCode ?? 200, ms: performance.now() - started, body: String(result.body) };
}

describe("a report with 100 minted keys", () => {
  it("sends one digest alert and nothing else", async () => {
    const minted = Array.from({ length: 100 }, () => generateKey());
    const answer = await report({ text: minted.join("\n") });
    await settle();

    expect(answer.status).toBe(200);
    expect(kinds()).toEqual(["unknown_key_digest"]);
    expect(alerts[0]?.message.distinctKeys).toBe(100);
    expect(emails).toHaveLength(0);
  });

  it("with two registered keys among them: what those need, one report alert, one digest", async () => {
    const registered = [await ownersKey(), await ownersKey()];
    const minted = Array.from({ length: 100 }, () => generateKey());
    const answer = await report({
      text: [...minted.slice(0, 50), ...registered, ...minted.slice(50)].join(" "),
    });
    await settle();

    expect(answer.status).toBe(200);
    expect(emails).toHaveLength(2);
    expect(kinds()).toEqual([
      "incident_opened",
      "incident_opened",
      "key_compromised",
      "key_compromised",
      "report_received",
      "unknown_key_digest",
    ]);
  });
});

describe("a report holding as many keys as 64 KiB allows", () => {
  it("answers 2xx within GitHub's budget with every registered key quarantined and emailed", async () => {
    const registered = [await ownersKey(), await ownersKey(), await ownersKey()];
    const keys = [...registered];
    // Space-separated: the JSON body stays under the form's 64 KiB ("\n" would cost two bytes).
    while ((keys.length + 1) * 43 < 64 * 1024 - 100) keys.push(generateKey());
    const answer = await report({ text: keys.join(" ") });
    await settle();

    expect(keys.length).toBeGreaterThanOrEqual(1_500);
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(GITHUB_BUDGET_MS);
    const repository = createKeyRepository(t.client, t.names.keys);
    for (const key of registered) expect((await repository.get(keyHash(key)))?.status).toBe("compromised");
    expect(emails).toHaveLength(3);
    expect(count("report_received")).toBe(1);
    expect(count("unknown_key_digest")).toBe(1);
    expect(alerts.find((a) => a.message.kind === "unknown_key_digest")?.message.distinctKeys).toBe(
      keys.length - 3,
    );
  });
});

describe("a signed partner delivery of 1,000 alerts", () => {
  it("answers 200 within GitHub's budget, labels every registered key, alerts once for the minted ones", async () => {
    const registered = [await ownersKey(), await ownersKey()];
    const tokens = [...registered, ...Array.from({ length: 998 }, () => generateKey())];
    const answer = await delivery(tokens);
    await settle();

    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(GITHUB_BUDGET_MS);
    const labels = JSON.parse(answer.body) as Array<{ label: string }>;
    expect(labels).toHaveLength(1_000);
    expect(labels.filter((l) => l.label === "true_positive")).toHaveLength(2);
    expect(emails).toHaveLength(2);
    expect(kinds()).toEqual([
      "incident_opened",
      "incident_opened",
      "key_compromised",
      "key_compromised",
      "unknown_key_digest",
    ]);
    const health = (await readScannerHealth(t.client, t.names.state)).find(
      (h) => h.scanner === "partner_webhook",
    );
    expect(health).toMatchObject({ outcome: "ok", counts: { alerts: 1_000, truePositives: 2 } });
  });

  it("redelivered (GitHub retries) sends nothing new", async () => {
    const tokens = Array.from({ length: 200 }, () => generateKey());
    await delivery(tokens);
    await settle();
    alerts = [];
    const again = await delivery(tokens);
    await settle();

    expect(again.status).toBe(200);
    expect(alerts).toEqual([]);
  });

  it("of 1,500 alerts (over the old 1,000 limit) is processed, not refused", async () => {
    const registered = await ownersKey();
    // Tokens of other providers cost no DynamoDB work: this case is about the count limit.
    const others = Array.from({ length: 1_499 }, (_, i) => `ghp_${i.toString().padStart(36, "0")}`);
    const answer = await delivery([registered, ...others]);
    await settle();

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)[0]).toMatchObject({ label: "true_positive" });
    expect(emails).toHaveLength(1);
  });
});

describe("an obfuscated key in a report", () => {
  it("is found and quarantined, and no raw key is stored, emailed or alerted", async () => {
    const key = await ownersKey();
    const encoded = `%${key.charCodeAt(0).toString(16)}${key.slice(1)}`;
    const split = `${key.slice(0, 12)}\u200B${key.slice(12)}`;
    const answer = await report({
      text: "the key is in the description and the link",
      description: `found ${split} in a pastebin`,
      url: `https://paste.example/raw/${encoded}`,
    });
    await settle();

    expect(answer.status).toBe(200);
    expect((await createKeyRepository(t.client, t.names.keys).get(keyHash(key)))?.status).toBe("compromised");
    expect(emails).toHaveLength(1);
    const everything = JSON.stringify([await dumpTables(t), alerts, emails]);
    expect(everything).not.toContain(key.slice(4));
    expect(everything).not.toContain(encoded);
  });
});

describe("a phishing URL in a report", () => {
  const PHISHING =
    "https://smelter-security.example/restore?case=4411 ACTION REQUIRED: sign in at https://login.evil.example now";

  it("reaches the owner as a bare host and path, never as a link or free text", async () => {
    const key = await ownersKey();
    await report({ text: key, url: PHISHING.replaceAll(" ", "%20") });
    await settle();

    expect(emails).toHaveLength(1);
    expect(emails[0]).toContain("smelter-security.example/restore");
    expect(emails[0]).not.toMatch(/ACTION|REQUIRED|case=4411|evil\.example|href=/);
  });

  it("reported again with a new URL after resolution, neither reopens nor emails again", async () => {
    const key = await ownersKey();
    await report({ text: key, url: "https://gist.github.com/someone/first" });
    await settle();
    const incidentId =
      (await createKeyRepository(t.client, t.names.keys).get(keyHash(key)))?.incidentId ?? "";
    const incidents = createIncidentRepository(t.client, t.names.incidents);
    await transitionIncident(incidentId, "resolve", "user:alice", {
      incidents,
      clock: { now: () => new Date() },
    });
    await settle();
    emails = [];
    alerts = [];

    await report({ text: key, url: PHISHING.replaceAll(" ", "%20") });
    await settle();

    expect(emails).toEqual([]);
    expect((await incidents.get(incidentId))?.state).toBe("resolved");
  });
});
