import type { APIGatewayRequestAuthorizerEventV2 } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { generateKey, keyHash, keyIdOf, redactKey } from "../../lambdas/domain/key-format.js";
import type { KeyRecord, KeyStatus } from "../../lambdas/domain/key-record.js";
import { makeKeyAuthorizerHandler } from "../../lambdas/handlers/key-authorizer.js";

function setup(status: KeyStatus | "absent" = "active", cacheTtlMs = 30_000) {
  const rawKey = generateKey();
  const hash = keyHash(rawKey);
  const records = new Map<string, KeyRecord>();
  if (status !== "absent") {
    records.set(hash, {
      keyHash: hash,
      keyId: keyIdOf(hash),
      projectId: "proj-1",
      ownerEmail: "o@example.com",
      status,
      redacted: redactKey(rawKey),
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
    });
  }
  let lookups = 0;
  const clock = fixedClock("2026-03-01T00:00:00.000Z");
  const handler = makeKeyAuthorizerHandler({
    keys: {
      get: async (h) => {
        lookups++;
        return records.get(h);
      },
    },
    prefixes: ["smk_"],
    cacheTtlMs,
    clock,
  });
  return { rawKey, hash, records, handler, clock, lookups: () => lookups };
}

const eventWith = (headers: Record<string, string>) =>
  ({ headers }) as unknown as APIGatewayRequestAuthorizerEventV2;

describe("an active key", () => {
  it("is allowed with its keyId and projectId in the context", async () => {
    const s = setup("active");
    const result = await s.handler(eventWith({ "x-api-key": s.rawKey }));
    expect(result).toEqual({ isAuthorized: true, context: { keyId: keyIdOf(s.hash), projectId: "proj-1" } });
  });

  it("is accepted as an Authorization bearer token", async () => {
    const s = setup("active");
    const result = await s.handler(eventWith({ authorization: `Bearer ${s.rawKey}` }));
    expect(result.isAuthorized).toBe(true);
  });
});

describe("keys that must be refused", () => {
  it.each(["compromised", "revoked", "absent"] as const)("denies a %s key", async (status) => {
    const s = setup(status);
    const result = await s.handler(eventWith({ "x-api-key": s.rawKey }));
    expect(result.isAuthorized).toBe(false);
  });

  it("denies a value with a bad checksum without reading the table", async () => {
    const s = setup("active");
    const tampered = `${s.rawKey.slice(0, -1)}${s.rawKey.endsWith("a") ? "b" : "a"}`;
    const result = await s.handler(eventWith({ "x-api-key": tampered }));
    expect(result.isAuthorized).toBe(false);
    expect(s.lookups()).toBe(0);
  });

  it("denies a request without a key", async () => {
    const s = setup("active");
    expect((await s.handler(eventWith({}))).isAuthorized).toBe(false);
  });
});

describe("the lookup cache", () => {
  it("serves repeated requests within the TTL from memory", async () => {
    const s = setup("active");
    await s.handler(eventWith({ "x-api-key": s.rawKey }));
    await s.handler(eventWith({ "x-api-key": s.rawKey }));
    expect(s.lookups()).toBe(1);
  });

  it("sees a quarantine once the TTL (at most 60 s) has passed", async () => {
    const s = setup("active", 120_000);
    await s.handler(eventWith({ "x-api-key": s.rawKey }));
    (s.records.get(s.hash) as KeyRecord).status = "compromised";
    s.clock.advance(60_001);
    const result = await s.handler(eventWith({ "x-api-key": s.rawKey }));
    expect(result.isAuthorized).toBe(false);
  });
});
