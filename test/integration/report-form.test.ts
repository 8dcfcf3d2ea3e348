import { QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import { createFixedWindowRateLimiter } from "../../lambdas/adapters/rate-limiter.js";
import { createReportRepository } from "../../lambdas/adapters/report-repository.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { generateKey, keyHash, keyIdOf, redactKey } from "../../lambdas/domain/key-format.js";
import { makeReportsHandler, REPORT_RATE_SCOPE } from "../../lambdas/handlers/reports.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";
import { apiEvent, formPost, jsonPost } from "../support/report-requests.js";

const silent = { info() {}, warn() {}, error() {} };

let db: TestTables;
let clock: ReturnType<typeof fixedClock>;
let handler: ReturnType<typeof makeReportsHandler>;

beforeEach(async () => {
  db = await createTestTables();
  clock = fixedClock("2026-03-01T12:00:05Z");
  handler = makeReportsHandler({
    recordFindings: createFindingRecorder({ client: db.client, tables: db.names, clock }),
    reports: createReportRepository(db.client, db.names.reports),
    rateLimiter: createFixedWindowRateLimiter({
      client: db.client,
      table: db.names.state,
      scope: REPORT_RATE_SCOPE,
      limit: 10,
      windowSeconds: 3600,
      clock,
    }),
    ipPepper: "integration-pepper",
    keyPrefixes: ["smk_"],
    clock,
    logger: silent,
  });
});

async function scanAll(table: string) {
  return (await db.client.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];
}

describe("rate limit (DynamoDB Local)", () => {
  it("lets 10 reports through per /24 per hour and refuses the 11th with 429 and Retry-After", async () => {
    // Arrange: 11 posts fired at once from one /24, so the limit must hold under concurrency.
    const posts = Array.from({ length: 11 }, (_, i) =>
      jsonPost({ text: generateKey() }, { sourceIp: `203.0.113.${i + 1}` }),
    );
    // Act
    const answers = await Promise.all(posts.map((post) => handler(post)));
    // Assert
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(1);
    const refused = answers.find((a) => a.statusCode === 429);
    expect(refused?.headers?.["retry-after"]).toBe(String(3600 - 5));
    expect(await scanAll(db.names.reports)).toHaveLength(10);
  });

  it("does not charge another network for it", async () => {
    for (let i = 0; i < 11; i++)
      await handler(jsonPost({ text: generateKey() }, { sourceIp: "203.0.113.9" }));
    const other = await handler(jsonPost({ text: generateKey() }, { sourceIp: "2001:db8:1::5" }));
    expect(other.statusCode).toBe(200);
  });

  it("opens again in the next window", async () => {
    for (let i = 0; i < 11; i++)
      await handler(jsonPost({ text: generateKey() }, { sourceIp: "203.0.113.9" }));
    clock.advance(3600 * 1000);
    const next = await handler(jsonPost({ text: generateKey() }, { sourceIp: "203.0.113.9" }));
    expect(next.statusCode).toBe(200);
  });

  it("stores counters under a pseudonym with a TTL, never the IP", async () => {
    await handler(jsonPost({ text: generateKey() }, { sourceIp: "203.0.113.9" }));
    const [counter] = await scanAll(db.names.state);
    expect(counter?.pk).toMatch(/^RATE#report#[0-9a-f]{64}$/);
    expect(counter?.expiresAt).toBeGreaterThan(Date.parse("2026-03-01T12:00:05Z") / 1000);
    expect(JSON.stringify(counter)).not.toContain("203.0.113");
  });
});

describe("a report of a registered key (real recorder)", () => {
  it("opens the key's incident linked to the report, and stores the report without the text", async () => {
    const { rawKey } = await issueKey("proj-1", "owner@example.com", {
      keys: createKeyRepository(db.client, db.names.keys),
      clock,
    });
    const res = await handler(
      formPost({ text: `found this: ${rawKey}`, url: "https://gist.github.com/x/1", email: "r@example.org" }),
    );
    expect(res.statusCode).toBe(200);
    const [report] = await scanAll(db.names.reports);
    expect(report).toMatchObject({ reporterEmail: "r@example.org", url: "https://gist.github.com/x/1" });
    expect(JSON.stringify(report)).not.toContain(rawKey);
    const incident = await createIncidentRepository(db.client, db.names.incidents).get(
      (await createKeyRepository(db.client, db.names.keys).get(keyHash(rawKey)))?.incidentId ?? "",
    );
    expect(incident).toMatchObject({ kind: "leaked_key", state: "open" });
  });

  it("finds the report by reporter for privacy export (byReporter index)", async () => {
    await handler(jsonPost({ text: generateKey(), email: "Reporter@Example.org" }));
    const found = await db.client.send(
      new QueryCommand({
        TableName: db.names.reports,
        IndexName: "byReporter",
        KeyConditionExpression: "reporterEmail = :e",
        ExpressionAttributeValues: { ":e": "reporter@example.org" },
      }),
    );
    expect(found.Items).toHaveLength(1);
  });
});

describe("no oracle (real recorder)", () => {
  it("answers the same key byte-identically before and after it is registered", async () => {
    // Arrange: one key, first unknown to the registry, then registered to an owner.
    const key = generateKey();
    const unknownAnswer = await handler(formPost({ text: key }));
    const now = clock.now().toISOString();
    await createKeyRepository(db.client, db.names.keys).create({
      keyHash: keyHash(key),
      keyId: keyIdOf(keyHash(key)),
      projectId: "proj-1",
      ownerEmail: "owner@example.com",
      status: "active",
      redacted: redactKey(key),
      createdAt: now,
      updatedAt: now,
    });
    // Act
    const registeredAnswer = await handler(formPost({ text: key }));
    // Assert: the second report did reach a registered key, yet the answer is the same bytes.
    expect((await createKeyRepository(db.client, db.names.keys).get(keyHash(key)))?.status).toBe(
      "compromised",
    );
    // Each report gets its own random reference; nothing else may differ.
    const sansReference = (answer: typeof unknownAnswer) => ({
      ...answer,
      body: (answer.body ?? "").replace(/SR-[0-9A-Z]+/g, "SR-…"),
    });
    expect(sansReference(registeredAnswer)).toEqual(sansReference(unknownAnswer));
  });

  it("answers a registered key and an unregistered valid key byte-identically", async () => {
    const keys = createKeyRepository(db.client, db.names.keys);
    const { rawKey } = await issueKey("proj-1", "owner@example.com", { keys, clock });
    const unknown = generateKey();
    // Same shape of answer for both (one key each); only the redacted key inside may differ.
    const registeredAnswer = await handler(formPost({ text: rawKey }));
    const unknownAnswer = await handler(formPost({ text: unknown }));
    const neutral = (body: string | undefined, key: string) =>
      (body ?? "").replace(`${key.slice(0, 8)}…${key.slice(-4)}`, "KEY").replace(/SR-[0-9A-Z]+/g, "SR-…");
    expect(neutral(unknownAnswer.body, unknown)).toBe(neutral(registeredAnswer.body, rawKey));
    expect(unknownAnswer.statusCode).toBe(registeredAnswer.statusCode);
    expect(unknownAnswer.headers).toEqual(registeredAnswer.headers);
  });
});

describe("bad input (DynamoDB Local)", () => {
  it.each([
    ["empty", apiEvent({ headers: { "content-type": "application/json" }, body: "" })],
    ["65 KiB", formPost({ text: `${generateKey()} ${"z".repeat(65 * 1024)}` })],
    ["invalid JSON", apiEvent({ headers: { "content-type": "application/json" }, body: "{" })],
    ["wrong content type", apiEvent({ headers: { "content-type": "text/plain" }, body: generateKey() })],
    ["script injection", formPost({ text: "<script>alert(1)</script>", email: "<script>" })],
  ])("%s: writes no report and no incident", async (_name, event) => {
    const res = await handler(event);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(await scanAll(db.names.reports)).toEqual([]);
    expect(await scanAll(db.names.incidents)).toEqual([]);
  });

  it("honeypot: 200, and writes no report and no incident", async () => {
    const res = await handler(formPost({ text: generateKey(), subject: "http://spam.example" }));
    expect(res.statusCode).toBe(200);
    expect(await scanAll(db.names.reports)).toEqual([]);
    expect(await scanAll(db.names.incidents)).toEqual([]);
  });
});
