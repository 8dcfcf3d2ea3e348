import { describe, expect, it } from "vitest";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";
import {
  findingsFromAlerts,
  labelAlerts,
  MAX_ALERTS_PER_DELIVERY,
  parseSecretScanningBatch,
  type SecretScanningAlert,
  tokenHash,
} from "../../lambdas/domain/secret-scanning-alert.js";

const body = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8");
const alert = (overrides: Partial<SecretScanningAlert> = {}): SecretScanningAlert => ({
  token: generateKey(),
  type: "smelter_api_key",
  url: "https://github.com/o/r/blob/abc/file.txt",
  source: "content",
  ...overrides,
});
/** Same body and prefix, last check digit changed: well formed, checksum wrong. */
function withBadChecksum(key: string): string {
  return key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
}

describe("parseSecretScanningBatch", () => {
  it("accepts GitHub's wire format", () => {
    const result = parseSecretScanningBatch(
      body([{ token: "t", type: "smelter_api_key", url: "https://github.com/x", source: "commit" }]),
    );

    expect(result).toEqual({
      ok: true,
      alerts: [{ token: "t", type: "smelter_api_key", url: "https://github.com/x", source: "commit" }],
    });
  });

  it("compares source case-insensitively", () => {
    const result = parseSecretScanningBatch(
      body([{ token: "t", type: "x", url: "", source: "Issue_Comment" }]),
    );

    expect(result.ok && result.alerts[0]?.source).toBe("issue_comment");
  });

  it("accepts source values it doesn't know", () => {
    const result = parseSecretScanningBatch(
      body([{ token: "t", type: "x", url: "", source: "hologram_note" }]),
    );

    expect(result.ok && result.alerts[0]?.source).toBe("hologram_note");
  });

  it("treats a missing source (older deliveries) as unknown", () => {
    const result = parseSecretScanningBatch(body([{ token: "t", type: "x", url: "some_url" }]));

    expect(result.ok && result.alerts[0]?.source).toBe("unknown");
  });

  it("accepts an empty url", () => {
    expect(parseSecretScanningBatch(body([{ token: "t", type: "x", url: "", source: "npm" }])).ok).toBe(true);
  });

  it("drops fields it doesn't know", () => {
    const result = parseSecretScanningBatch(
      body([{ token: "t", type: "x", url: "", source: "npm", extra: 1 }]),
    );

    expect(result.ok && Object.keys(result.alerts[0] ?? {})).toEqual(["token", "type", "url", "source"]);
  });

  it("accepts an empty array", () => {
    expect(parseSecretScanningBatch(body([]))).toEqual({ ok: true, alerts: [] });
  });

  it("refuses an object instead of an array", () => {
    const result = parseSecretScanningBatch(body({ token: "t", type: "x", url: "" }));

    expect(result).toMatchObject({ ok: false, reason: "not_an_array" });
  });

  it("refuses text that isn't JSON, including the empty body", () => {
    expect(parseSecretScanningBatch(Buffer.alloc(0))).toMatchObject({ ok: false, reason: "not_json" });
  });

  it("refuses bytes that aren't UTF-8", () => {
    const latin1 = Buffer.from('[{"token":"caf\xe9","type":"x","url":""}]', "latin1");

    expect(parseSecretScanningBatch(latin1)).toMatchObject({ ok: false, reason: "not_utf8" });
  });

  it("refuses an alert without a token, naming where", () => {
    const result = parseSecretScanningBatch(
      body([
        { token: "t", type: "x", url: "" },
        { type: "x", url: "" },
      ]),
    );

    expect(result).toMatchObject({ ok: false, reason: "invalid_shape" });
    expect(!result.ok && result.detail).toContain("1.token");
  });

  it("refuses a url that isn't a string", () => {
    expect(parseSecretScanningBatch(body([{ token: "t", type: "x", url: null }]))).toMatchObject({
      ok: false,
      reason: "invalid_shape",
    });
  });

  it("refuses more alerts than one delivery may carry", () => {
    const many = Array.from({ length: MAX_ALERTS_PER_DELIVERY + 1 }, () => ({
      token: "t",
      type: "x",
      url: "",
    }));

    expect(parseSecretScanningBatch(body(many))).toMatchObject({ ok: false, reason: "too_many_alerts" });
  });
});

describe("findingsFromAlerts", () => {
  const seenAt = new Date("2025-01-02T03:04:05.000Z");

  it("makes a github_partner finding of a valid key, located by url and source", () => {
    const key = generateKey();

    const [finding] = findingsFromAlerts([alert({ token: key, source: "commit" })], {
      prefixes: ["smk_"],
      seenAt,
    });

    expect(finding).toEqual({
      keyHash: keyHash(key),
      redacted: `smk_${key.slice(4, 8)}…${key.slice(-4)}`,
      source: "github_partner",
      location: { url: "https://github.com/o/r/blob/abc/file.txt", kind: "commit" },
      seenAt: "2025-01-02T03:04:05.000Z",
    });
  });

  it("skips tokens whose checksum fails", () => {
    const findings = findingsFromAlerts([alert({ token: withBadChecksum(generateKey()) })], {
      prefixes: ["smk_"],
      seenAt,
    });

    expect(findings).toEqual([]);
  });

  it("skips valid keys with a prefix that isn't ours", () => {
    expect(
      findingsFromAlerts([alert({ token: generateKey("abc_") })], { prefixes: ["smk_"], seenAt }),
    ).toEqual([]);
  });

  it("keeps a finding whose url is empty, located by source only", () => {
    const [finding] = findingsFromAlerts([alert({ url: "", source: "npm" })], { prefixes: ["smk_"], seenAt });

    expect(finding?.location).toEqual({ kind: "npm" });
  });

  it("never carries the raw token", () => {
    const key = generateKey();

    const findings = findingsFromAlerts([alert({ token: key })], { prefixes: ["smk_"], seenAt });

    expect(JSON.stringify(findings)).not.toContain(key);
  });

  it("sends a key repeated at the same place once", () => {
    const key = generateKey();

    const findings = findingsFromAlerts([alert({ token: key }), alert({ token: key })], {
      prefixes: ["smk_"],
      seenAt,
    });

    expect(findings).toHaveLength(1);
  });
});

describe("labelAlerts", () => {
  it("labels registered keys true_positive and everything else false_positive, in order", () => {
    const registered = generateKey();
    const alerts = [alert({ token: "nope" }), alert({ token: registered }), alert({ token: generateKey() })];

    const labels = labelAlerts(alerts, new Set([keyHash(registered)]));

    expect(labels.map((label) => label.label)).toEqual(["false_positive", "true_positive", "false_positive"]);
  });

  it("gives the sha256 hex of the token and echoes its type", () => {
    const labels = labelAlerts([alert({ token: "some_token", type: "some_type" })], new Set());

    expect(labels[0]).toEqual({
      // echo -n some_token | sha256sum
      token_hash: "9a45520a1213f15016d2d768b5fb3d904492a44ee274b44d4de8803e00fb536a",
      token_type: "some_type",
      label: "false_positive",
    });
  });
});

describe("tokenHash", () => {
  it("equals the key hash for keys", () => {
    const key = generateKey();

    expect(tokenHash(key)).toBe(keyHash(key));
  });
});
