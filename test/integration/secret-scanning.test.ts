import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import { createGitHubPublicKeys } from "../../lambdas/adapters/github-public-keys.js";
import { routeRequests } from "../../lambdas/adapters/local-http.js";
import { incidentIdFor } from "../../lambdas/domain/incident.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";
import { makeSecretScanningHandler } from "../../lambdas/handlers/secret-scanning.js";
import { type GitHubStandIn, startGitHubStandIn } from "../../standin/github/github-stand-in.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";
import { generateSigningKey, published, type TestSigningKey } from "../support/partner-keys.js";

const clock = fixedClock("2026-03-01T10:00:00.000Z");
let db: TestTables;
let github: GitHubStandIn;
const keyFetches = () => github.count("/meta/public_keys/secret_scanning");
let signer: TestSigningKey;
let server: Server;
let endpoint: string;

/** The webhook as deployed, over real HTTP: API Gateway-shaped events, keys from the GitHub stand-in, real DynamoDB. */
beforeAll(async () => {
  db = await createTestTables();
  signer = generateSigningKey();
  github = await startGitHubStandIn({ publicKeys: [published(signer)] });
  const handler = makeSecretScanningHandler({
    recordFindings: createFindingRecorder({ client: db.client, tables: db.names, clock }),
    publicKeys: createGitHubPublicKeys({ apiUrl: github.url, clock, refetchCooldownMs: 60_000 }),
    prefixes: ["smk_"],
    clock,
    logger: { info() {}, warn() {}, error() {} },
  });
  server = createServer(routeRequests([{ method: "POST", path: "/github/secret-scanning", handler }]));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/github/secret-scanning`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await github?.stop();
  db?.client.destroy();
});

async function deliver(body: string | Buffer, key: TestSigningKey = signer, signature?: string) {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "github-public-key-identifier": key.keyIdentifier,
      "github-public-key-signature": signature ?? key.sign(bytes),
    },
    body: bytes,
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

const alerts = (tokens: string[]) =>
  JSON.stringify(
    tokens.map((token, i) => ({
      token,
      type: "smelter_api_key",
      url: `https://github.com/octo/demo/blob/abc/f${i}.env`,
      source: "Commit",
    })),
  );

async function incidentItems() {
  const out = await db.client.send(new ScanCommand({ TableName: db.names.incidents, ConsistentRead: true }));
  return out.Items ?? [];
}

const withBadChecksum = (key: string) => key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
const registerKey = async () =>
  (
    await issueKey("proj-1", "owner@example.com", {
      keys: createKeyRepository(db.client, db.names.keys),
      clock,
    })
  ).rawKey;

describe("a batch with a registered key, an unknown valid key and a checksum-failing token", () => {
  let before: number;
  let registered: string;
  let unknown: string;
  let result: Awaited<ReturnType<typeof deliver>>;

  beforeAll(async () => {
    before = (await incidentItems()).length;
    registered = await registerKey();
    unknown = generateKey();
    result = await deliver(alerts([registered, unknown, withBadChecksum(generateKey())]));
  });

  it("answers labels true/false/false", () => {
    expect({
      status: result.status,
      labels: (result.body as { label: string }[]).map((l) => l.label),
    }).toEqual({
      status: 200,
      labels: ["true_positive", "false_positive", "false_positive"],
    });
  });

  it("opens one incident for the registered key and an unknown_key record for the other", async () => {
    const incidents = (await incidentItems()).filter((item) => typeof item.kind === "string");

    expect(
      incidents
        .map((item) => ({ keyHash: item.keyHash, kind: item.kind }))
        .sort((a, b) => a.kind.localeCompare(b.kind)),
    ).toEqual([
      { keyHash: keyHash(registered), kind: "leaked_key" },
      { keyHash: keyHash(unknown), kind: "unknown_key" },
    ]);
  });

  it("quarantines the registered key", async () => {
    const key = await createKeyRepository(db.client, db.names.keys).get(keyHash(registered));

    expect(key?.status).toBe("compromised");
  });

  it("records the partner source and the given url", async () => {
    const items = await incidentItems();
    const occurrence = items.find(
      (item) => item.entity === "occurrence" && item.incidentId === incidentIdFor(keyHash(registered)),
    );

    expect({
      items: items.length > before,
      source: occurrence?.source,
      location: occurrence?.location,
    }).toEqual({
      items: true,
      source: "github_partner",
      location: { url: "https://github.com/octo/demo/blob/abc/f0.env", kind: "commit" },
    });
  });
});

describe("a replayed delivery", () => {
  it("creates nothing new and gets the same answer", async () => {
    const body = alerts([await registerKey(), generateKey()]);
    const signature = signer.sign(Buffer.from(body));
    const first = await deliver(body, signer, signature);
    const afterFirst = await incidentItems();

    const second = await deliver(body, signer, signature);
    const afterSecond = await incidentItems();

    expect({ same: second, count: afterSecond.length }).toEqual({ same: first, count: afterFirst.length });
    expect(second.status).toBe(200);
  });
});

describe("refused deliveries record nothing", () => {
  let registered: string;
  let body: string;

  beforeEach(async () => {
    registered = await registerKey();
    body = alerts([registered]);
  });

  const cases: [string, number, () => Promise<{ status: number }>][] = [
    ["tampered body", 401, () => deliver(body.replace("f0", "f9"), signer, signer.sign(Buffer.from(body)))],
    ["wrong key identifier", 401, () => deliver(body, generateSigningKey())],
    ["truncated signature", 401, () => deliver(body, signer, signer.sign(Buffer.from(body)).slice(0, 30))],
    ["non-DER signature", 401, () => deliver(body, signer, Buffer.alloc(64, 1).toString("base64"))],
    ["empty body", 400, () => deliver("")],
    ["non-UTF-8 body", 400, () => deliver(Buffer.concat([Buffer.from(body), Buffer.from([0xff])]))],
    [
      "10,000-alert body",
      413,
      () => deliver(alerts([registered, ...Array.from({ length: 9_999 }, () => generateKey())])),
    ],
  ];

  for (const [name, status, send] of cases) {
    it(`${name} → ${status}`, async () => {
      const before = await incidentItems();

      const result = await send();
      const after = await incidentItems();

      expect({ status: result.status, created: after.length - before.length }).toEqual({
        status,
        created: 0,
      });
      expect((await createKeyRepository(db.client, db.names.keys).get(keyHash(registered)))?.status).toBe(
        "active",
      );
    });
  }

  it("[] → 200 []", async () => {
    const before = await incidentItems();

    const result = await deliver("[]");

    expect({ result, created: (await incidentItems()).length - before.length }).toEqual({
      result: { status: 200, body: [] },
      created: 0,
    });
  });
});

describe("GitHub's public keys, proven over HTTP", () => {
  it("are fetched once for many deliveries (cache hit)", async () => {
    const before = keyFetches();

    for (let i = 0; i < 3; i++) expect((await deliver("[]")).status).toBe(200);

    expect(keyFetches() - before).toBe(0);
  });

  it("are fetched again once for a delivery signed by a newly rotated key", async () => {
    const rotated = generateSigningKey();
    github.setPublicKeys([published(signer, false), published(rotated)]);
    clock.advance(61_000);
    const before = keyFetches();

    const first = await deliver("[]", rotated);
    const second = await deliver("[]", rotated);

    expect({ first: first.status, second: second.status, fetches: keyFetches() - before }).toEqual({
      first: 200,
      second: 200,
      fetches: 1,
    });
  });

  it("still verify deliveries signed by the key rotated out", async () => {
    expect((await deliver("[]", signer)).status).toBe(200);
  });
});
