import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { beforeEach, describe, expect, it } from "vitest";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import type { RateLimitDecision, RateLimiter } from "../../lambdas/adapters/rate-limiter.js";
import type { ReportRepository } from "../../lambdas/adapters/report-repository.js";
import type { Finding, FindingOutcome, RecordFindings } from "../../lambdas/domain/finding.js";
import { generateKey, keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import type { ReportRecord } from "../../lambdas/domain/report.js";
import type { Alert } from "../../lambdas/domain/security-alert.js";
import {
  makeReportsHandler,
  type ReportsHandlerDeps,
  type ReportsLogger,
} from "../../lambdas/handlers/reports.js";
import { apiEvent, formPost, jsonPost } from "../support/report-requests.js";

const INJECTION = `"'><script>alert(1)</script><img src=x onerror=alert(2)>`;

interface Harness {
  handler: ReturnType<typeof makeReportsHandler>;
  recorded: Finding[][];
  saved: ReportRecord[];
  logLines: string[];
  registered: Set<string>;
  limiter: { decision: RateLimitDecision; subjects: string[] };
  failRecording: boolean;
}

function harness(extra: Partial<ReportsHandlerDeps> = {}): Harness {
  const h = {
    recorded: [] as Finding[][],
    saved: [] as ReportRecord[],
    logLines: [] as string[],
    registered: new Set<string>(),
    limiter: { decision: { allowed: true, remaining: 9, retryAfterSeconds: 60 }, subjects: [] as string[] },
    failRecording: false,
  } as Harness;
  const recordFindings: RecordFindings = async (findings) => {
    if (h.failRecording) throw new Error("DynamoDB unavailable");
    h.recorded.push(findings);
    return findings.map(
      (finding): FindingOutcome => ({
        keyHash: finding.keyHash,
        status: h.registered.has(finding.keyHash) ? "registered" : "unknown",
        incidentId: `inc-${finding.keyHash.slice(0, 8)}`,
        newOccurrence: true,
      }),
    );
  };
  const reports: ReportRepository = {
    save: async (report) => {
      h.saved.push(report as ReportRecord);
    },
    get: async (id) => h.saved.find((r) => r.reportId === id),
  };
  const rateLimiter: RateLimiter = {
    consume: async (subject) => {
      h.limiter.subjects.push(subject);
      return h.limiter.decision;
    },
  };
  const log =
    (level: string) =>
    (message: string, extra?: Record<string, unknown>): void => {
      h.logLines.push(JSON.stringify({ level, message, ...extra }));
    };
  const logger: ReportsLogger = { info: log("info"), warn: log("warn"), error: log("error") };
  let n = 0;
  h.handler = makeReportsHandler({
    recordFindings,
    reports,
    rateLimiter,
    ipPepper: "test-pepper",
    keyPrefixes: ["smk_"],
    clock: fixedClock("2026-03-01T12:00:00Z"),
    logger,
    newReportId: () => `rep-${++n}`,
    ...extra,
  });
  return h;
}

const headerOf = (res: APIGatewayProxyStructuredResultV2, name: string) =>
  res.headers?.[name] as string | undefined;

/** Each report gets its own random reference; everything else in the answer must be identical. */
const sansReference = (res: APIGatewayProxyStructuredResultV2) => ({
  ...res,
  body: (res.body ?? "").replace(/SR-[0-9A-Z]+/g, "SR-…"),
});

let h: Harness;
beforeEach(() => {
  h = harness();
});

describe("a report with a valid key", () => {
  it("records one user_report finding per key, located at the given URL and linked to the report", async () => {
    const key = generateKey();
    await h.handler(
      formPost({ text: `config: ${key}\n`, url: "https://github.com/acme/app/blob/main/.env" }),
    );
    expect(h.recorded).toEqual([
      [
        {
          keyHash: keyHash(key),
          redacted: redactKey(key),
          source: "user_report",
          location: { kind: "report_form", url: "https://github.com/acme/app/blob/main/.env" },
          seenAt: "2026-03-01T12:00:00.000Z",
          reportId: "rep-1",
        },
      ],
    ]);
  });

  it("answers a form post with an HTML confirmation", async () => {
    const key = generateKey();
    const res = await h.handler(formPost({ text: key }));
    expect(res.statusCode).toBe(200);
    expect(headerOf(res, "content-type")).toMatch(/^text\/html/);
    expect(res.body).toContain("Report received");
    expect(res.body).toContain(redactKey(key));
  });

  it("answers JSON with JSON", async () => {
    const key = generateKey();
    const res = await h.handler(jsonPost({ text: key }));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body ?? "")).toMatchObject({ status: "received", keys: [redactKey(key)] });
  });

  it("finds keys in every field and records each key once", async () => {
    const [a, b] = [generateKey(), generateKey()];
    await h.handler(jsonPost({ text: `${a} and again ${a}`, description: `also ${b}` }));
    expect(h.recorded[0]?.map((f) => f.keyHash)).toEqual([keyHash(a), keyHash(b)]);
  });

  it("stores the report without the pasted text, with a 30-day expiry", async () => {
    const key = generateKey();
    await h.handler(
      jsonPost({
        text: `leaked ${key}`,
        description: "Seen in a public gist",
        email: "Reporter@Example.ORG",
      }),
    );
    expect(h.saved).toEqual([
      {
        pk: "REPORT#rep-1",
        reportId: "rep-1",
        receivedAt: "2026-03-01T12:00:00.000Z",
        description: "Seen in a public gist",
        reporterEmail: "reporter@example.org",
        keysFound: 1,
        keyShapedTokens: 1,
        descriptionWithheld: false,
        urlWithheld: false,
        expiresAt: Date.parse("2026-03-31T12:00:00Z") / 1000,
      },
    ]);
    expect(JSON.stringify(h.saved)).not.toContain(key);
  });

  it("withholds a description that contains a key-shaped token", async () => {
    const key = generateKey();
    await h.handler(jsonPost({ text: key, description: `it was ${key.slice(0, -3)} or so` }));
    expect(h.saved[0]).toMatchObject({ descriptionWithheld: true });
    expect(h.saved[0]).not.toHaveProperty("description");
  });

  it("withholds a URL that contains a key, and locates the finding at the form rather than there", async () => {
    const key = generateKey();
    await h.handler(jsonPost({ text: key, url: `https://example.com/?api_key=${key}` }));
    expect(h.saved[0]).toMatchObject({ urlWithheld: true });
    expect(h.saved[0]).not.toHaveProperty("url");
    expect(h.recorded[0]?.[0]?.location).toEqual({ kind: "report_form" });
  });
});

describe("no oracle", () => {
  it("answers a registered key and an unregistered valid key byte-identically (form)", async () => {
    // Arrange: the same key, once registered and once not, so only the registry could tell them apart.
    const key = generateKey();
    h.registered.add(keyHash(key));
    // Act
    const asRegistered = await h.handler(formPost({ text: key }));
    h.registered.clear();
    const asUnknown = await h.handler(formPost({ text: key }));
    // Assert
    expect(sansReference(asUnknown)).toEqual(sansReference(asRegistered));
    expect(h.recorded.length).toBe(2);
  });

  it("answers a registered key and an unregistered valid key byte-identically (JSON)", async () => {
    const key = generateKey();
    h.registered.add(keyHash(key));
    const asRegistered = await h.handler(jsonPost({ text: key }));
    h.registered.clear();
    const asUnknown = await h.handler(jsonPost({ text: key }));
    expect(sansReference(asUnknown).body).toBe(sansReference(asRegistered).body);
    expect(asUnknown.headers).toEqual(asRegistered.headers);
    expect(asUnknown.statusCode).toBe(asRegistered.statusCode);
  });
});

describe("a report without a valid key", () => {
  it("says plainly that no key-shaped token was found (422), recording nothing", async () => {
    const res = await h.handler(jsonPost({ text: "my key is lost, please help" }));
    expect(res.statusCode).toBe(422);
    expect(JSON.parse(res.body ?? "").errors.text).toMatch(/found no Smelter API key/);
    expect(h.recorded).toEqual([]);
    expect(h.saved).toEqual([]);
  });

  it('says "not a valid key" when a key-shaped token fails its checksum', async () => {
    const key = generateKey();
    const typo = `${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`;
    const res = await h.handler(formPost({ text: typo }));
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain("not a valid one");
    expect(h.recorded).toEqual([]);
  });

  it("keeps the reporter's text in the form so a typo can be fixed", async () => {
    const res = await h.handler(formPost({ text: "smk_tooShort", description: "hello" }));
    expect(res.body).toContain(">smk_tooShort</textarea>");
    expect(res.body).toContain(">hello</textarea>");
  });
});

describe("bad input", () => {
  const nothingRecorded = () => {
    expect(h.recorded).toEqual([]);
    expect(h.saved).toEqual([]);
  };

  it("empty body → 400", async () => {
    const res = await h.handler(
      apiEvent({ headers: { "content-type": "application/x-www-form-urlencoded" } }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("Paste the key");
    nothingRecorded();
  });

  it("blank text → 400 naming the field", async () => {
    const res = await h.handler(jsonPost({ text: "   " }));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body ?? "").errors).toHaveProperty("text");
    nothingRecorded();
  });

  it("65 KiB → 413", async () => {
    const res = await h.handler(formPost({ text: `${generateKey()} ${"a".repeat(65 * 1024)}` }));
    expect(res.statusCode).toBe(413);
    nothingRecorded();
  });

  it("65 KiB sent base64-encoded → 413", async () => {
    const body = Buffer.from(JSON.stringify({ text: "x".repeat(65 * 1024) })).toString("base64");
    const res = await h.handler(
      apiEvent({ headers: { "content-type": "application/json" }, body, isBase64Encoded: true }),
    );
    expect(res.statusCode).toBe(413);
    nothingRecorded();
  });

  it("invalid JSON → 400", async () => {
    const res = await h.handler(
      apiEvent({ headers: { "content-type": "application/json" }, body: '{"text": ' }),
    );
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body ?? "").message).toMatch(/not valid JSON/);
    nothingRecorded();
  });

  it("JSON that is not an object → 400", async () => {
    const res = await h.handler(jsonPost([generateKey()]));
    expect(res.statusCode).toBe(400);
    nothingRecorded();
  });

  it.each([
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/xml",
    "application/json; charset=latin1",
  ])("content type %s → 415", async (contentType) => {
    const res = await h.handler(
      apiEvent({ headers: { "content-type": contentType }, body: JSON.stringify({ text: generateKey() }) }),
    );
    expect(res.statusCode).toBe(415);
    nothingRecorded();
  });

  it("no content type → 415", async () => {
    const res = await h.handler(apiEvent({ body: `text=${generateKey()}` }));
    expect(res.statusCode).toBe(415);
    nothingRecorded();
  });

  it("bytes that are not UTF-8 → 400", async () => {
    const body = Buffer.from([0x74, 0x65, 0x78, 0x74, 0x3d, 0xff, 0xfe]).toString("base64");
    const res = await h.handler(
      apiEvent({
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
        isBase64Encoded: true,
      }),
    );
    expect(res.statusCode).toBe(400);
    nothingRecorded();
  });

  it.each([
    ["url", "javascript:alert(1)"],
    ["url", "not a url"],
    ["email", "not-an-email"],
    ["description", "x".repeat(4001)],
  ])("invalid %s → 400 naming the field", async (field, value) => {
    const res = await h.handler(jsonPost({ text: generateKey(), [field]: value }));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body ?? "").errors).toHaveProperty(field);
    nothingRecorded();
  });
});

describe("script injection is escaped in every field of the HTML answer", () => {
  it.each(["text", "url", "description", "email"])("%s", async (field) => {
    // Arrange: the injected value makes the form invalid (no key, bad URL or email) so it is echoed back.
    const fields: Record<string, string> = { text: "no key here", [field]: `${INJECTION}` };
    // Act
    const res = await h.handler(formPost(fields));
    // Assert
    expect([400, 422]).toContain(res.statusCode);
    expect(res.body).not.toContain("<script>alert");
    expect(res.body).not.toContain("<img src=x");
    expect(res.body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(res.body).toContain("&quot;&#39;&gt;");
    expect(h.recorded).toEqual([]);
  });

  it("a valid report with injection in its description is recorded, and the answer echoes nothing of it", async () => {
    const res = await h.handler(formPost({ text: generateKey(), description: INJECTION }));
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain("alert(");
    expect(h.saved[0]?.description).toBe(INJECTION.trim());
  });
});

describe("honeypot", () => {
  it("answers a filled honeypot exactly like a real report, and records nothing", async () => {
    const key = generateKey();
    const real = await h.handler(formPost({ text: key }));
    h.recorded.length = 0;
    h.saved.length = 0;
    const bot = await h.handler(formPost({ text: key, subject: "Buy now" }));
    expect(sansReference(bot)).toEqual(sansReference(real));
    expect(h.recorded).toEqual([]);
    expect(h.saved).toEqual([]);
  });
});

describe("rate limit", () => {
  it("refuses with 429 and Retry-After, recording nothing", async () => {
    h.limiter.decision = { allowed: false, remaining: 0, retryAfterSeconds: 1234 };
    const res = await h.handler(jsonPost({ text: generateKey() }));
    expect(res.statusCode).toBe(429);
    expect(headerOf(res, "retry-after")).toBe("1234");
    expect(h.recorded).toEqual([]);
    expect(h.saved).toEqual([]);
  });

  it("counts per /24: neighbours share a subject, other networks don't, and it is not the IP", async () => {
    await h.handler(jsonPost({ text: generateKey() }, { sourceIp: "203.0.113.5" }));
    await h.handler(jsonPost({ text: generateKey() }, { sourceIp: "203.0.113.250" }));
    await h.handler(jsonPost({ text: generateKey() }, { sourceIp: "203.0.114.5" }));
    const [a, b, c] = h.limiter.subjects;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("behind the CloudFront front", () => {
  const SECRET = "origin-verify-secret-for-the-test-48-characters";
  const behindFront = () => harness({ originVerify: SECRET });
  const via = (viewer: string) => ({
    sourceIp: "130.176.1.20",
    headers: { "x-keywatch-origin-verify": SECRET, "x-keywatch-viewer-address": viewer },
  });

  it("keys the budget on the viewer CloudFront names, not on the shared edge address", async () => {
    const front = behindFront();
    await front.handler(jsonPost({ text: generateKey() }, via("203.0.113.5")));
    await front.handler(jsonPost({ text: generateKey() }, via("198.51.100.5")));
    const [a, b] = front.limiter.subjects;
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).not.toBe(a);
  });

  it("refuses a post sent straight to the API (around the WAF) without spending any budget", async () => {
    const front = behindFront();
    const res = await front.handler(
      jsonPost(
        { text: generateKey() },
        { sourceIp: "203.0.113.5", headers: { "x-keywatch-viewer-address": "1.2.3.4" } },
      ),
    );
    expect(res.statusCode).toBe(403);
    expect(front.limiter.subjects).toEqual([]);
  });
});

describe("CSRF posture", () => {
  it("refuses a form post from another origin (403), recording nothing", async () => {
    const res = await h.handler(
      formPost({ text: generateKey() }, { headers: { origin: "https://evil.example" } }),
    );
    expect(res.statusCode).toBe(403);
    expect(h.recorded).toEqual([]);
  });

  it("refuses a cross-site post by Sec-Fetch-Site", async () => {
    const res = await h.handler(
      formPost({ text: generateKey() }, { headers: { "sec-fetch-site": "cross-site" } }),
    );
    expect(res.statusCode).toBe(403);
  });

  it("lets Sec-Fetch-Site decide over Origin", async () => {
    const res = await h.handler(
      formPost(
        { text: generateKey() },
        { headers: { origin: "https://reports.example.test", "sec-fetch-site": "cross-site" } },
      ),
    );
    expect(res.statusCode).toBe(403);
  });

  it('accepts "Origin: null" from a same-origin form (what our no-referrer policy makes browsers send)', async () => {
    const res = await h.handler(
      formPost({ text: generateKey() }, { headers: { origin: "null", "sec-fetch-site": "same-origin" } }),
    );
    expect(res.statusCode).toBe(200);
  });

  it("accepts a same-origin post", async () => {
    const res = await h.handler(
      formPost(
        { text: generateKey() },
        { headers: { origin: "https://reports.example.test", "sec-fetch-site": "same-origin" } },
      ),
    );
    expect(res.statusCode).toBe(200);
  });

  it("sends no CORS headers", async () => {
    const res = await h.handler(
      jsonPost({ text: generateKey() }, { headers: { origin: "https://reports.example.test" } }),
    );
    expect(Object.keys(res.headers ?? {}).filter((name) => name.startsWith("access-control-"))).toEqual([]);
  });
});

describe("security headers", () => {
  it.each([
    ["received", () => formPost({ text: generateKey() })],
    ["invalid", () => formPost({ text: "" })],
    ["unsupported", () => apiEvent({ headers: { "content-type": "text/plain" }, body: "x" })],
  ])("are on the %s answer", async (_name, event) => {
    const res = await h.handler(event());
    const csp = headerOf(res, "content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(headerOf(res, "referrer-policy")).toBe("no-referrer");
    expect(headerOf(res, "x-frame-options")).toBe("DENY");
    expect(headerOf(res, "x-content-type-options")).toBe("nosniff");
    expect(headerOf(res, "cache-control")).toBe("no-store");
  });
});

describe("logs", () => {
  it("never carry the raw key, the reporter's email or the client IP", async () => {
    const key = generateKey();
    await h.handler(jsonPost({ text: key, email: "someone@example.org" }, { sourceIp: "192.0.2.77" }));
    h.limiter.decision = { allowed: false, remaining: 0, retryAfterSeconds: 60 };
    await h.handler(jsonPost({ text: key }, { sourceIp: "192.0.2.77" }));
    const logs = h.logLines.join("\n");
    expect(h.logLines.length).toBeGreaterThan(1);
    expect(logs).not.toContain(key);
    expect(logs).not.toContain("someone@example.org");
    expect(logs).not.toContain("192.0.2");
  });
});

describe("when recording fails", () => {
  it("answers 503 asking to retry, and says nothing about the key", async () => {
    h.failRecording = true;
    const res = await h.handler(jsonPost({ text: generateKey() }));
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body ?? "").status).toBe("unavailable");
  });
});

describe("the 64 KiB limit is on the pasted text", () => {
  it("accepts a 44 KiB paste whose form encoding is far larger", async () => {
    const text = `${generateKey()}\n${'é\n\t{"a": 1}\n'.repeat(4_500)}`.slice(0, 44 * 1024);
    const event = formPost({ text });
    const res = await h.handler(event);
    expect([Buffer.byteLength(event.body ?? "") > 64 * 1024, res.statusCode]).toEqual([true, 200]);
  });

  it("accepts a 62 KB file's text sent as JSON", async () => {
    const text = `${generateKey()}\n${'"quoted"\\path\n'.repeat(4_100)}`.slice(0, 62_000);
    const res = await h.handler(jsonPost({ text }));
    expect(res.statusCode).toBe(200);
  });

  it("refuses 65 KiB of text with the text kept in the form, without spending the budget", async () => {
    const text = `${generateKey()} ${"a".repeat(65 * 1024)}`;
    const res = await h.handler(formPost({ text }));
    expect({
      status: res.statusCode,
      kept: (res.body ?? "").includes(text.slice(0, 200)),
      message: (res.body ?? "").includes("the limit is 64 KiB"),
      spent: h.limiter.subjects.length,
    }).toEqual({ status: 413, kept: true, message: true, spent: 0 });
  });
});

describe("refused submissions don't spend the hourly budget", () => {
  it("a report without a valid key, or with a bad field, consumes nothing", async () => {
    await h.handler(formPost({ text: "no key here" }));
    await h.handler(formPost({ text: "smk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }));
    await h.handler(formPost({ text: generateKey(), email: "not-an-address" }));
    expect(h.limiter.subjects).toEqual([]);
  });

  it("a recorded report consumes one unit", async () => {
    await h.handler(formPost({ text: generateKey() }));
    expect(h.limiter.subjects).toHaveLength(1);
  });
});

describe("error pages keep the text and take focus", () => {
  it("answers a rate-limited form post with the form, the text and an announced summary", async () => {
    h.limiter.decision = { allowed: false, remaining: 0, retryAfterSeconds: 600 };
    const text = generateKey();
    const res = await h.handler(formPost({ text, description: "seen in a gist" }));
    const body = res.body ?? "";
    expect({
      status: res.statusCode,
      type: headerOf(res, "content-type"),
      text: body.includes(`>${text}</textarea>`),
      description: body.includes("seen in a gist"),
      summary: /<div class="summary" role="alert" id="summary" tabindex="-1" autofocus>/.test(body),
    }).toEqual({
      status: 429,
      type: "text/html; charset=utf-8",
      text: true,
      description: true,
      summary: true,
    });
  });
});

describe("a store failure during a form post", () => {
  it("answers the HTML 503 form (text kept) when the rate limiter throws, not a JSON 500", async () => {
    const text = generateKey();
    const failing = makeReportsHandler({
      recordFindings: async () => [],
      reports: { save: async () => {}, get: async () => undefined },
      rateLimiter: {
        consume: async () => {
          throw new Error("ProvisionedThroughputExceededException");
        },
      },
      ipPepper: "p",
      keyPrefixes: ["smk_"],
      logger: { info() {}, warn() {}, error() {} },
    });
    const res = await failing(formPost({ text }));
    expect([
      res.statusCode,
      headerOf(res, "content-type"),
      (res.body ?? "").includes(`>${text}</textarea>`),
    ]).toEqual([503, "text/html; charset=utf-8", true]);
  });
});

describe("the receipt", () => {
  it("gives a reference number, in HTML and JSON", async () => {
    const html = await h.handler(formPost({ text: generateKey() }));
    const json = JSON.parse((await h.handler(jsonPost({ text: generateKey() }))).body ?? "{}");
    expect([
      /Your reference: <strong id="reference">SR-REP1<\/strong>/.test(html.body ?? ""),
      json.reference,
    ]).toEqual([true, "SR-REP2"]);
  });
});

describe("misuse without a key", () => {
  function misuseHarness(registered: Record<string, { projectId: string; status: string }>) {
    const alerts: Alert[] = [];
    const saved: unknown[] = [];
    const subjects: string[] = [];
    const handler = makeReportsHandler({
      recordFindings: async () => [],
      reports: { save: async () => {}, get: async () => undefined },
      rateLimiter: {
        consume: async (subject) => {
          subjects.push(subject);
          return { allowed: true, remaining: 9, retryAfterSeconds: 60 };
        },
      },
      ipPepper: "p",
      keyPrefixes: ["smk_"],
      logger: { info() {}, warn() {}, error() {} },
      newReportId: () => "rep-77",
      saveMisuse: async (record) => {
        saved.push(record);
      },
      alertSecurityTeam: async (alert) => {
        alerts.push(alert);
      },
      keyByKeyId: async (keyId) => registered[keyId],
    });
    return { handler, alerts, saved, subjects };
  }

  it("answers the same whether or not the key id is registered, and tells only the team", async () => {
    const known = "3f9a0c12d4e5b6a7";
    const m = misuseHarness({ [known]: { projectId: "billing", status: "active" } });
    const a = await m.handler(formPost({ kind: "misuse", keyRef: known, description: "charges at 3 a.m." }));
    const b = await m.handler(
      formPost({ kind: "misuse", keyRef: "0000000000000000", description: "charges at 3 a.m." }),
    );
    expect({
      same: a.body === b.body && a.statusCode === b.statusCode,
      status: a.statusCode,
      reference: (a.body ?? "").includes("SR-REP77"),
      alerts: m.alerts.map((alert) => [
        alert.message.kind,
        alert.message.registered,
        alert.message.projectId,
      ]),
    }).toEqual({
      same: true,
      status: 200,
      reference: true,
      alerts: [
        ["misuse_reported", true, "billing"],
        ["misuse_reported", false, undefined],
      ],
    });
  });

  it("accepts the shortened key typed with three dots", async () => {
    const m = misuseHarness({});
    const res = await m.handler(
      jsonPost({ kind: "misuse", keyRef: "smk_AbCd...wXyZ", description: "odd traffic" }),
    );
    expect([res.statusCode, (m.saved[0] as { keyRef: string }).keyRef]).toEqual([200, "smk_AbCd…wXyZ"]);
  });

  it("refuses a description holding a key, keeping the text and spending nothing", async () => {
    const m = misuseHarness({});
    const res = await m.handler(
      formPost({ kind: "misuse", keyRef: "3f9a0c12d4e5b6a7", description: `it was ${generateKey()}` }),
    );
    expect([
      res.statusCode,
      m.subjects.length,
      m.alerts.length,
      /id="misuse-summary"[^>]*autofocus/.test(res.body ?? ""),
    ]).toEqual([422, 0, 0, true]);
  });

  it("names the field when the key reference is not a key id or shortened key", async () => {
    const m = misuseHarness({});
    const res = await m.handler(formPost({ kind: "misuse", keyRef: "my key", description: "x" }));
    expect([res.statusCode, (res.body ?? "").includes('href="#keyRef"')]).toEqual([400, true]);
  });
});

describe("scanner health", () => {
  it("records the report form's latest delivery for the console, ok or failed", async () => {
    const seen: string[] = [];
    const make = (fail: boolean) =>
      makeReportsHandler({
        recordFindings: async () => {
          if (fail) throw new Error("down");
          return [];
        },
        reports: { save: async () => {}, get: async () => undefined },
        rateLimiter: { consume: async () => ({ allowed: true, remaining: 1, retryAfterSeconds: 1 }) },
        ipPepper: "p",
        keyPrefixes: ["smk_"],
        logger: { info() {}, warn() {}, error() {} },
        recordHealth: async (health) => {
          seen.push(`${health.scanner}:${health.outcome}`);
        },
      });
    await make(false)(jsonPost({ text: generateKey() }));
    await make(true)(jsonPost({ text: generateKey() }));
    expect(seen).toEqual(["report_form:ok", "report_form:failed"]);
  });
});
