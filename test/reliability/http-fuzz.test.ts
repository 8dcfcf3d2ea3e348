import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { localRoutes } from "../../bin/local/runner.js";
import type { Route } from "../../lambdas/adapters/local-http.js";
import type { TestTables } from "../support/dynamodb.js";
import { httpEvent } from "../support/http-event.js";
import type { TestSigningKey } from "../support/partner-keys.js";
import { dumpTables, reliabilityContext } from "./local-context.js";

/** 1,000 per entry point by default; KEYWATCH_FUZZ_RUNS lowers it for a quick local loop. */
const RUNS = Number(process.env.KEYWATCH_FUZZ_RUNS ?? 1_000);

let routes: Route[];
let t: TestTables;
let signer: TestSigningKey;

beforeAll(async () => {
  // The form's per-client limit would answer 429 to nearly every case and hide the parser.
  process.env.KEYWATCH_REPORT_RATE_LIMIT = "1000000";
  const built = await reliabilityContext();
  ({ t, signer } = built);
  routes = localRoutes(built.ctx);
});

const contentTypes = fc.constantFrom(
  "application/json",
  "application/x-www-form-urlencoded",
  "text/plain",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "",
);

/** Hostile bodies: random text, JSON of any shape, near-valid shapes, huge strings, control bytes. */
const bodies = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .array(fc.record({ token: fc.string(), type: fc.string(), url: fc.string(), source: fc.string() }), {
      maxLength: 5,
    })
    .map((v) => JSON.stringify(v)),
  fc
    .record({ text: fc.string(), url: fc.string(), description: fc.string(), email: fc.string() })
    .map((v) => JSON.stringify(v)),
  fc.record({ action: fc.string() }).map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
  fc.constant("x".repeat(70_000)),
  fc.constant("<script>alert(1)</script>"),
);

const cases = fc.record({
  id: fc.oneof(fc.string({ maxLength: 40 }), fc.constant("inc_00000000000000000000"), fc.constant("../../x")),
  query: fc.dictionary(
    fc.constantFrom("kind", "state", "limit", "cursor", "days", "x"),
    fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("-1", "0", "101", "unknown_key", "open")),
  ),
  contentType: contentTypes,
  body: bodies,
  sign: fc.boolean(),
  sourceIp: fc.oneof(fc.ipV4(), fc.ipV6()),
});

describe("every HTTP entry point under fuzzing", () => {
  it("covers the routes DESIGN.md promises", () => {
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        "GET /healthz",
        "GET /report",
        "POST /reports",
        "POST /github/secret-scanning",
        "GET /console",
        "GET /api/incidents",
        "GET /api/incidents/{id}",
      ]),
    );
  });

  it(`answers every route ${RUNS} hostile requests without a 5xx`, async () => {
    const failures: string[] = [];
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const headers: Record<string, string> = c.contentType ? { "content-type": c.contentType } : {};
          if (route.path === "/github/secret-scanning" && c.sign) {
            headers["github-public-key-identifier"] = signer.keyIdentifier;
            headers["github-public-key-signature"] = signer.sign(c.body);
          }
          const routeKey = `${route.method} ${route.path}`;
          const result = await route.handler(
            httpEvent(routeKey, {
              pathParameters: route.path.includes("{id}") ? { id: c.id } : {},
              path: route.path.replace("{id}", encodeURIComponent(c.id)),
              query: c.query,
              headers,
              ...(route.method === "POST" ? { body: c.body } : {}),
              sourceIp: c.sourceIp,
            }),
          );
          const status = result.statusCode ?? 200;
          if (status >= 500) failures.push(`${routeKey} → ${status}`);
          return status < 500;
        }),
        { numRuns: RUNS },
      );
    }
    expect(failures).toEqual([]);
  });

  it("recorded nothing from the invalid input: no key, incident, notification or report", async () => {
    const dump = await dumpTables(t);
    expect({
      keys: dump.keys.length,
      incidents: dump.incidents.length,
      notifications: dump.notifications.length,
      reports: dump.reports.length,
    }).toEqual({ keys: 0, incidents: 0, notifications: 0, reports: 0 });
  });
});
