import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import {
  type PublicKeyDirectory,
  PublicKeysUnavailableError,
} from "../../lambdas/adapters/github-public-keys.js";
import type { ScannerHealth } from "../../lambdas/adapters/scanner-health.js";
import type { Finding, FindingOutcome } from "../../lambdas/domain/finding.js";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";
import { type PartnerPublicKey, partnerPublicKey } from "../../lambdas/domain/partner-signature.js";
import { RecordFindingsInterruptedError } from "../../lambdas/domain/record-findings.js";
import { MAX_PARTNER_BODY_BYTES, makeSecretScanningHandler } from "../../lambdas/handlers/secret-scanning.js";
import { GITHUB_PUBLISHED_KEYS, GITHUB_SAMPLE } from "../support/github-test-vector.js";
import { generateSigningKey, type TestSigningKey } from "../support/partner-keys.js";

/** A fake RecordFindings: keys in `registered` are ours, everything else unknown. */
function fakeRecorder(registered: Set<string>) {
  const calls: Finding[][] = [];
  const recordFindings = async (findings: Finding[]): Promise<FindingOutcome[]> => {
    calls.push(findings);
    return findings.map((finding) => ({
      keyHash: finding.keyHash,
      status: registered.has(finding.keyHash) ? "registered" : "unknown",
      incidentId: `inc_${finding.keyHash.slice(0, 8)}`,
      newOccurrence: true,
    }));
  };
  return { recordFindings, calls, recorded: () => calls.flat() };
}

function directoryOf(keys: PartnerPublicKey[]): PublicKeyDirectory & { lookups: string[] } {
  const lookups: string[] = [];
  return {
    lookups,
    async keyFor(id) {
      lookups.push(id);
      return keys.find((key) => key.keyIdentifier === id);
    },
  };
}

function captureLogs() {
  const lines: string[] = [];
  const log = (level: string) => (message: string, extra?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...extra }));
  };
  return { logger: { info: log("info"), warn: log("warn"), error: log("error") }, lines };
}

function event(
  body: Buffer | string | undefined,
  headers: Record<string, string>,
  options: { base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const bytes = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  return {
    version: "2.0",
    routeKey: "POST /github/secret-scanning",
    rawPath: "/github/secret-scanning",
    rawQueryString: "",
    headers: { "content-type": "application/json", ...headers },
    requestContext: { requestId: "req-1", http: { method: "POST" } },
    body:
      bytes === undefined ? undefined : options.base64 ? bytes.toString("base64") : bytes.toString("utf8"),
    isBase64Encoded: options.base64 ?? false,
  } as unknown as APIGatewayProxyEventV2;
}

function signed(signer: TestSigningKey, body: Buffer | string, options: { base64?: boolean } = {}) {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  return event(
    bytes,
    {
      "github-public-key-identifier": signer.keyIdentifier,
      "github-public-key-signature": signer.sign(bytes),
    },
    options,
  );
}

const parseBody = (result: APIGatewayProxyStructuredResultV2) => JSON.parse(result.body ?? "null") as unknown;
/** Same body and prefix, last check digit changed: well formed, checksum wrong. */
const withBadChecksum = (key: string) => key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
const alertsFor = (tokens: string[]) =>
  JSON.stringify(
    tokens.map((token, i) => ({
      token,
      type: "smelter_api_key",
      url: `https://github.com/o/r/blob/c/f${i}`,
      source: "commit",
    })),
  );

let signer: TestSigningKey;
let recorder: ReturnType<typeof fakeRecorder>;
let registeredKey: string;
let logs: ReturnType<typeof captureLogs>;
let handler: ReturnType<typeof makeSecretScanningHandler>;

beforeEach(() => {
  signer = generateSigningKey();
  registeredKey = generateKey();
  recorder = fakeRecorder(new Set([keyHash(registeredKey)]));
  logs = captureLogs();
  handler = makeSecretScanningHandler({
    recordFindings: recorder.recordFindings,
    publicKeys: directoryOf([partnerPublicKey(signer.keyIdentifier, signer.publicKeyPem, true)]),
    prefixes: ["smk_"],
    clock: fixedClock("2025-03-01T12:00:00Z"),
    logger: logs.logger,
  });
});

describe("a valid batch", () => {
  it("labels a registered key, an unknown valid key and a checksum-failing token true/false/false", async () => {
    const unknownKey = generateKey();
    const badChecksum = withBadChecksum(generateKey());

    const result = await handler(signed(signer, alertsFor([registeredKey, unknownKey, badChecksum])));

    expect({ status: result.statusCode, body: parseBody(result) }).toEqual({
      status: 200,
      body: [
        { token_hash: keyHash(registeredKey), token_type: "smelter_api_key", label: "true_positive" },
        { token_hash: keyHash(unknownKey), token_type: "smelter_api_key", label: "false_positive" },
        { token_hash: keyHash(badChecksum), token_type: "smelter_api_key", label: "false_positive" },
      ],
    });
  });

  it("records the two valid keys as github_partner findings, not the checksum-failing token", async () => {
    const unknownKey = generateKey();

    await handler(signed(signer, alertsFor([registeredKey, unknownKey, withBadChecksum(generateKey())])));

    expect(
      recorder.recorded().map((f) => ({ keyHash: f.keyHash, source: f.source, kind: f.location.kind })),
    ).toEqual([
      { keyHash: keyHash(registeredKey), source: "github_partner", kind: "commit" },
      { keyHash: keyHash(unknownKey), source: "github_partner", kind: "commit" },
    ]);
  });

  it("passes the given url on", async () => {
    await handler(signed(signer, alertsFor([registeredKey])));

    expect(recorder.recorded()[0]?.location.url).toBe("https://github.com/o/r/blob/c/f0");
  });

  it("verifies a body API Gateway delivered base64-encoded, over the decoded bytes", async () => {
    const result = await handler(signed(signer, alertsFor([registeredKey]), { base64: true }));

    expect({ status: result.statusCode, recorded: recorder.recorded().length }).toEqual({
      status: 200,
      recorded: 1,
    });
  });

  it("accepts GitHub's published sample delivery (its token isn't ours: false_positive)", async () => {
    const github = makeSecretScanningHandler({
      recordFindings: recorder.recordFindings,
      publicKeys: directoryOf(
        GITHUB_PUBLISHED_KEYS.map((k) => partnerPublicKey(k.key_identifier, k.key, k.is_current)),
      ),
      prefixes: ["smk_"],
      clock: fixedClock("2025-03-01T12:00:00Z"),
      logger: logs.logger,
    });

    const result = await github(
      event(GITHUB_SAMPLE.payload, {
        "GITHUB-PUBLIC-KEY-IDENTIFIER": GITHUB_SAMPLE.keyIdentifier,
        "GITHUB-PUBLIC-KEY-SIGNATURE": GITHUB_SAMPLE.signature,
      }),
    );

    expect({ status: result.statusCode, body: parseBody(result) }).toEqual({
      status: 200,
      body: [
        {
          token_hash: "9a45520a1213f15016d2d768b5fb3d904492a44ee274b44d4de8803e00fb536a",
          token_type: "some_type",
          label: "false_positive",
        },
      ],
    });
  });

  it("answers [] to an empty array and records nothing", async () => {
    const result = await handler(signed(signer, "[]"));

    expect({ status: result.statusCode, body: parseBody(result), calls: recorder.calls.length }).toEqual({
      status: 200,
      body: [],
      calls: 0,
    });
  });

  it("never logs a raw token", async () => {
    await handler(signed(signer, alertsFor([registeredKey])));

    expect(logs.lines.join("\n")).not.toContain(registeredKey);
  });
});

describe("signature failures: 401, nothing recorded", () => {
  const cases: [string, () => APIGatewayProxyEventV2][] = [
    [
      "tampered body",
      () => {
        const good = signed(signer, alertsFor([registeredKey]));
        return { ...good, body: (good.body as string).replace("f0", "f1") };
      },
    ],
    [
      "wrong key identifier",
      () => {
        const good = signed(signer, alertsFor([registeredKey]));
        return { ...good, headers: { ...good.headers, "github-public-key-identifier": "f".repeat(64) } };
      },
    ],
    [
      "signature by another key under our identifier",
      () => {
        const body = alertsFor([registeredKey]);
        return event(body, {
          "github-public-key-identifier": signer.keyIdentifier,
          "github-public-key-signature": generateSigningKey().sign(body),
        });
      },
    ],
    [
      "truncated signature",
      () => {
        const good = signed(signer, alertsFor([registeredKey]));
        const signature = good.headers["github-public-key-signature"] as string;
        return {
          ...good,
          headers: { ...good.headers, "github-public-key-signature": signature.slice(0, 40) },
        };
      },
    ],
    [
      "non-DER signature (64 raw bytes)",
      () => {
        const good = signed(signer, alertsFor([registeredKey]));
        const raw = Buffer.alloc(64, 7).toString("base64");
        return { ...good, headers: { ...good.headers, "github-public-key-signature": raw } };
      },
    ],
    [
      "missing signature header",
      () => event(alertsFor([registeredKey]), { "github-public-key-identifier": signer.keyIdentifier }),
    ],
    ["missing both headers", () => event(alertsFor([registeredKey]), {})],
    [
      "empty body, unsigned",
      () =>
        event(undefined, {
          "github-public-key-identifier": signer.keyIdentifier,
          "github-public-key-signature": "",
        }),
    ],
    [
      "non-UTF-8 body, unsigned",
      () =>
        event(
          Buffer.from([0x5b, 0xff, 0xfe, 0x5d]),
          {
            "github-public-key-identifier": signer.keyIdentifier,
            "github-public-key-signature": signer.sign("[]"),
          },
          { base64: true },
        ),
    ],
  ];

  for (const [name, build] of cases) {
    it(name, async () => {
      const result = await handler(build());

      expect({ status: result.statusCode, calls: recorder.calls.length }).toEqual({ status: 401, calls: 0 });
    });
  }

  it("logs the key identifier, never the body", async () => {
    const good = signed(signer, alertsFor([registeredKey]));
    await handler({ ...good, body: (good.body as string).replace("f0", "f1") });

    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0]).toContain(signer.keyIdentifier);
    expect(logs.lines[0]).not.toContain(registeredKey.slice(4, 20));
  });

  it("doesn't look up or log an identifier that can't be one", async () => {
    const lookups = directoryOf([]);
    const strict = makeSecretScanningHandler({ ...baseDeps(), publicKeys: lookups });

    const result = await strict(
      event("[]", { "github-public-key-identifier": "<script>", "github-public-key-signature": "AA==" }),
    );

    expect({ status: result.statusCode, lookups: lookups.lookups.length, logged: logs.lines.join() }).toEqual(
      {
        status: 401,
        lookups: 0,
        logged: expect.not.stringContaining("<script>"),
      },
    );
  });
});

describe("body failures after a valid signature: 400, nothing recorded", () => {
  const bodies: [string, Buffer | string][] = [
    ["empty body", ""],
    ["not JSON", "token=smk_abc"],
    ["a JSON object", JSON.stringify({ token: "t", type: "x", url: "" })],
    ["an alert without type", JSON.stringify([{ token: "t", url: "" }])],
    ["non-UTF-8 bytes", Buffer.from('[{"token":"caf\xe9","type":"x","url":""}]', "latin1")],
  ];

  for (const [name, body] of bodies) {
    it(name, async () => {
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");

      const result = await handler(signed(signer, bytes, { base64: Buffer.isBuffer(body) }));

      expect({ status: result.statusCode, calls: recorder.calls.length }).toEqual({ status: 400, calls: 0 });
    });
  }
});

describe("size limits: 413, nothing recorded", () => {
  it("refuses a 10,000-alert body over the byte limit before verifying it", async () => {
    const tokens = [registeredKey, ...Array.from({ length: 9_999 }, () => generateKey())];
    const lookups = directoryOf([partnerPublicKey(signer.keyIdentifier, signer.publicKeyPem, true)]);
    const limited = makeSecretScanningHandler({ ...baseDeps(), publicKeys: lookups });

    const body = alertsFor(tokens);

    const result = await limited(signed(signer, body));

    expect({
      overLimit: body.length > MAX_PARTNER_BODY_BYTES,
      status: result.statusCode,
      lookups: lookups.lookups.length,
      calls: recorder.calls.length,
    }).toEqual({
      overLimit: true,
      status: 413,
      lookups: 0,
      calls: 0,
    });
  });

  it("refuses a signed 10,000-alert body under the byte limit for its alert count", async () => {
    const tiny = JSON.stringify([
      { token: registeredKey, type: "k", url: "" },
      ...Array.from({ length: 9_999 }, () => ({ token: "x", type: "k", url: "" })),
    ]);

    const result = await handler(signed(signer, tiny));

    expect({
      bytes: tiny.length < 1024 * 1024,
      status: result.statusCode,
      calls: recorder.calls.length,
    }).toEqual({
      bytes: true,
      status: 413,
      calls: 0,
    });
  });

  it("measures a base64 body by its decoded size", async () => {
    const limited = makeSecretScanningHandler({ ...baseDeps(), maxBodyBytes: 100 });
    const body = alertsFor([registeredKey]);

    const result = await limited(signed(signer, body, { base64: true }));

    expect({ bodyBytes: body.length > 100, status: result.statusCode }).toEqual({
      bodyBytes: true,
      status: 413,
    });
  });
});

describe("GitHub's keys unavailable", () => {
  it("answers 503 with Retry-After and records nothing", async () => {
    const down = makeSecretScanningHandler({
      ...baseDeps(),
      publicKeys: {
        keyFor: async () => {
          throw new PublicKeysUnavailableError("down");
        },
      },
    });

    const result = await down(signed(signer, alertsFor([registeredKey])));

    expect({
      status: result.statusCode,
      retry: result.headers?.["retry-after"],
      calls: recorder.calls.length,
    }).toEqual({
      status: 503,
      retry: "60",
      calls: 0,
    });
  });
});

function baseDeps() {
  return {
    recordFindings: recorder.recordFindings,
    publicKeys: directoryOf([partnerPublicKey(signer.keyIdentifier, signer.publicKeyPem, true)]),
    prefixes: ["smk_"],
    clock: fixedClock("2025-03-01T12:00:00Z"),
    logger: logs.logger,
  };
}

describe("a delivery too big to record within the budget", () => {
  it("stops between chunks and answers 503 with Retry-After (GitHub redelivers; recorded work is kept)", async () => {
    let now = 0;
    const slow = makeSecretScanningHandler({
      ...baseDeps(),
      elapsedMs: () => now,
      recordingBudgetMs: 1_000,
      async recordFindings(findings, options) {
        now += 5_000;
        if (options?.shouldStop?.()) throw new RecordFindingsInterruptedError(100, findings.length);
        return [];
      },
    });

    const result = await slow(signed(signer, alertsFor([generateKey(), generateKey()])));

    expect({ status: result.statusCode, retry: result.headers?.["retry-after"] }).toEqual({
      status: 503,
      retry: "30",
    });
  });
});

describe("scanner health", () => {
  it("records each processed delivery as a partner_webhook run with its counts", async () => {
    const recorded: ScannerHealth[] = [];
    const withHealth = makeSecretScanningHandler({
      ...baseDeps(),
      recordHealth: async (health) => {
        recorded.push(health);
      },
    });

    await withHealth(signed(signer, alertsFor([registeredKey, generateKey()])));

    expect(recorded).toEqual([
      expect.objectContaining({
        scanner: "partner_webhook",
        outcome: "ok",
        counts: { alerts: 2, findings: 2, truePositives: 1, newOccurrences: 2 },
      }),
    ]);
  });

  it("still answers GitHub when the health write fails", async () => {
    const withHealth = makeSecretScanningHandler({
      ...baseDeps(),
      recordHealth: () => Promise.reject(new Error("state table down")),
    });

    const result = await withHealth(signed(signer, alertsFor([registeredKey])));

    expect(result.statusCode).toBe(200);
  });
});

describe("more alerts than the old 1,000 limit", () => {
  it("records all of them in one call to recordFindings, which chunks the work", async () => {
    const keys = Array.from({ length: 1_500 }, () => generateKey());

    const result = await handler(signed(signer, alertsFor(keys)));

    expect({ status: result.statusCode, recorded: recorder.recorded().length }).toEqual({
      status: 200,
      recorded: 1_500,
    });
  });
});
