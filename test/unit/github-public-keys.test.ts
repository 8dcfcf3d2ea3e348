import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import {
  createGitHubPublicKeys,
  type GitHubPublicKeysOptions,
  PublicKeysUnavailableError,
} from "../../lambdas/adapters/github-public-keys.js";
import { verifyPartnerSignature } from "../../lambdas/domain/partner-signature.js";
import { GITHUB_PUBLISHED_KEYS, GITHUB_SAMPLE } from "../support/github-test-vector.js";
import { generateSigningKey, type KeysServer, published, startKeysServer } from "../support/partner-keys.js";

const HOUR = 60 * 60 * 1000;
let server: KeysServer;
const clock = fixedClock("2025-01-01T00:00:00Z");
const directory = (options: GitHubPublicKeysOptions = {}) =>
  createGitHubPublicKeys({ apiUrl: server.url, clock, backoffMs: 1, ...options });

beforeEach(async () => {
  server = await startKeysServer();
});
afterEach(async () => {
  await server.close();
});

describe("looking up a key", () => {
  it("finds a listed key and it verifies GitHub's sample", async () => {
    server.keys = GITHUB_PUBLISHED_KEYS;

    const key = await directory().keyFor(GITHUB_SAMPLE.keyIdentifier);

    expect(
      key && verifyPartnerSignature(Buffer.from(GITHUB_SAMPLE.payload), GITHUB_SAMPLE.signature, key),
    ).toBe(true);
  });

  it("finds keys GitHub no longer marks current", async () => {
    const rotated = generateSigningKey();
    server.keys = [published(rotated, false), published(generateSigningKey(), true)];

    const key = await directory().keyFor(rotated.keyIdentifier);

    expect(key?.isCurrent).toBe(false);
  });

  it("sends the token when one is configured", async () => {
    const token = `ghp_${"0".repeat(36)}`;
    await directory({ token }).keyFor("anything");

    expect(server.lastHeaders?.authorization).toBe(`Bearer ${token}`);
  });

  it("sends no authorization without a token", async () => {
    await directory().keyFor("anything");

    expect(server.lastHeaders?.authorization).toBeUndefined();
  });
});

describe("caching", () => {
  it("serves repeated lookups from one fetch (cache hit)", async () => {
    const signer = generateSigningKey();
    server.keys = [published(signer)];
    const keys = directory();

    for (let i = 0; i < 5; i++) await keys.keyFor(signer.keyIdentifier);

    expect(server.requests).toBe(1);
  });

  it("shares one fetch between concurrent lookups", async () => {
    const signer = generateSigningKey();
    server.keys = [published(signer)];
    const keys = directory();

    await Promise.all(Array.from({ length: 10 }, () => keys.keyFor(signer.keyIdentifier)));

    expect(server.requests).toBe(1);
  });

  it("fetches again once the TTL has passed", async () => {
    const signer = generateSigningKey();
    server.keys = [published(signer)];
    const keys = directory({ ttlMs: HOUR });
    await keys.keyFor(signer.keyIdentifier);

    clock.advance(HOUR + 1);
    await keys.keyFor(signer.keyIdentifier);

    expect(server.requests).toBe(2);
  });
});

describe("an unknown identifier", () => {
  it("refetches once and finds a key rotated in since", async () => {
    const old = generateSigningKey();
    const rotated = generateSigningKey();
    server.keys = [published(old)];
    const keys = directory({ refetchCooldownMs: 60_000 });
    await keys.keyFor(old.keyIdentifier);
    clock.advance(60_001);
    server.keys = [published(old, false), published(rotated)];

    const key = await keys.keyFor(rotated.keyIdentifier);

    expect({ found: key?.keyIdentifier, requests: server.requests }).toEqual({
      found: rotated.keyIdentifier,
      requests: 2,
    });
  });

  it("can't force a fetch per request: within the cooldown, made-up identifiers cost nothing", async () => {
    server.keys = [published(generateSigningKey())];
    const keys = directory({ refetchCooldownMs: 60_000 });
    await keys.keyFor("first-made-up");
    const afterFirst = server.requests;

    for (let i = 0; i < 20; i++) expect(await keys.keyFor(`made-up-${i}`)).toBeUndefined();

    expect({ afterFirst, total: server.requests }).toEqual({ afterFirst: 1, total: 1 });
  });

  it("refetches again after the cooldown", async () => {
    server.keys = [published(generateSigningKey())];
    const keys = directory({ refetchCooldownMs: 60_000 });
    await keys.keyFor("made-up");

    clock.advance(60_001);
    await keys.keyFor("made-up");

    expect(server.requests).toBe(2);
  });
});

describe("failures", () => {
  it("retries a 5xx answer and succeeds", async () => {
    const signer = generateSigningKey();
    server.keys = [published(signer)];
    server.failNext = [502, 503];

    const key = await directory({ attempts: 3 }).keyFor(signer.keyIdentifier);

    expect({ found: key !== undefined, requests: server.requests }).toEqual({ found: true, requests: 3 });
  });

  it("does not retry a 404", async () => {
    server.failNext = [404];

    await expect(directory({ attempts: 3 }).keyFor("x")).rejects.toThrow(PublicKeysUnavailableError);
    expect(server.requests).toBe(1);
  });

  it("times out a hanging answer and retries", async () => {
    const signer = generateSigningKey();
    server.keys = [published(signer)];
    server.hangNext = 1;

    const key = await directory({ timeoutMs: 200, attempts: 2 }).keyFor(signer.keyIdentifier);

    expect({ found: key !== undefined, requests: server.requests }).toEqual({ found: true, requests: 2 });
  });

  it("is unavailable when no list was ever fetched", async () => {
    server.failNext = [500, 500];

    await expect(directory({ attempts: 2 }).keyFor("x")).rejects.toThrow(PublicKeysUnavailableError);
  });

  it("keeps serving the previous list when a refresh fails", async () => {
    const signer = generateSigningKey();
    server.keys = [published(signer)];
    const keys = directory({ ttlMs: HOUR, attempts: 1 });
    await keys.keyFor(signer.keyIdentifier);
    clock.advance(HOUR + 1);
    server.failNext = [500];

    const key = await keys.keyFor(signer.keyIdentifier);

    expect({ found: key !== undefined, requests: server.requests }).toEqual({ found: true, requests: 2 });
  });

  it("refuses a response that isn't the documented shape", async () => {
    server.keys = [{ key_identifier: 7 } as never];

    await expect(directory().keyFor("x")).rejects.toThrow(PublicKeysUnavailableError);
  });

  it("skips a listed key that isn't P-256 and keeps the others", async () => {
    const signer = generateSigningKey();
    server.keys = [{ key_identifier: "broken", key: "not a pem", is_current: true }, published(signer)];

    const key = await directory().keyFor(signer.keyIdentifier);

    expect(key?.keyIdentifier).toBe(signer.keyIdentifier);
  });
});

describe("talking to GitHub like a well-behaved client", () => {
  /** A fetch standing in for GitHub's keys endpoint: ETag on 200, 304 for a matching If-None-Match. */
  function conditionalFetch(list: unknown, script: number[] = []) {
    const seen: Headers[] = [];
    const fetchFn = (async (_url: string, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      seen.push(headers);
      const scripted = script.shift();
      if (scripted !== undefined) return new Response('{"message":"scripted"}', { status: scripted });
      if (headers.get("if-none-match") === '"v1"') return new Response(null, { status: 304 });
      return new Response(JSON.stringify(list), { status: 200, headers: { etag: '"v1"' } });
    }) as typeof fetch;
    return { fetchFn, seen };
  }

  it("refreshes with If-None-Match and keeps its list on 304", async () => {
    const signer = generateSigningKey();
    const { fetchFn, seen } = conditionalFetch({ public_keys: [published(signer)] });
    const keys = directory({ fetch: fetchFn, ttlMs: HOUR });
    await keys.keyFor(signer.keyIdentifier);
    clock.advance(HOUR + 1);

    const key = await keys.keyFor(signer.keyIdentifier);

    expect({ found: key !== undefined, conditional: seen[1]?.get("if-none-match") }).toEqual({
      found: true,
      conditional: '"v1"',
    });
  });

  it("retries a 403 (unauthenticated or secondary rate limit) with backoff", async () => {
    const signer = generateSigningKey();
    const { fetchFn, seen } = conditionalFetch({ public_keys: [published(signer)] }, [403, 403]);

    const key = await directory({ fetch: fetchFn, attempts: 3 }).keyFor(signer.keyIdentifier);

    expect([key !== undefined, seen.length]).toEqual([true, 3]);
  });

  it("never sends the token secret's generated placeholder", async () => {
    const { fetchFn, seen } = conditionalFetch({ public_keys: [] });

    await directory({ fetch: fetchFn, token: "k8#Vq!2x;Zr^w0@Lp{9mS&dT3)uB7eN" }).keyFor("x");

    expect(seen[0]?.get("authorization")).toBeNull();
  });

  it("goes on without a token GitHub refuses (401): the endpoint needs none", async () => {
    const signer = generateSigningKey();
    const { fetchFn, seen } = conditionalFetch({ public_keys: [published(signer)] }, [401]);
    const token = `ghp_${"a1B2".repeat(9)}`;

    const key = await directory({ fetch: fetchFn, token, attempts: 2 }).keyFor(signer.keyIdentifier);

    expect([key !== undefined, seen[0]?.get("authorization"), seen[1]?.get("authorization")]).toEqual([
      true,
      `Bearer ${token}`,
      null,
    ]);
  });

  it("names the REST API version", async () => {
    const { fetchFn, seen } = conditionalFetch({ public_keys: [] });

    await directory({ fetch: fetchFn }).keyFor("x");

    expect(seen[0]?.get("x-github-api-version")).toBe("2022-11-28");
  });
});
