import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalMonitor, startLocalMonitor } from "../../bin/local/runner.js";
import { readLocalSettings } from "../../bin/local/settings.js";
import { createAnomalyRepository } from "../../lambdas/adapters/anomaly-repository.js";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { createConsoleAnomalies } from "../../lambdas/adapters/console-anomalies.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import { type Route, routeRequests } from "../../lambdas/adapters/local-http.js";
import { recordScannerHealth } from "../../lambdas/adapters/scanner-health.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import { transitionIncident } from "../../lambdas/domain/transition-incident.js";
import { CONSOLE_PAGE_PATHS, makeConsolePageHandler } from "../../lambdas/handlers/console.js";
import { CONSOLE_API_ROUTES, makeConsoleApiHandler } from "../../lambdas/handlers/console-api.js";
import { axeViolations } from "../support/axe.js";
import { launchChromium } from "../support/browser.js";
import { type SeededIncident, seedIncidents } from "../support/incident-fixtures.js";

const home = mkdtempSync(join(tmpdir(), "keywatch-console-e2e-"));
const INCIDENTS = 500;
let monitor: LocalMonitor;
let browser: Browser;
let page: Page;
let seeded: SeededIncident[];
let leaked: { redacted: string; incidentId: string };
const problems: string[] = [];

beforeAll(async () => {
  monitor = await startLocalMonitor(readLocalSettings({ PORT: "0", KEYWATCH_HOME: home }), {
    log: () => {},
    schedulers: false,
    notifier: false,
  });
  const { client, tables } = monitor.env;
  const seedStart = Date.now();
  seeded = await seedIncidents(client, tables.incidents, INCIDENTS);
  process.stdout.write(`seeded ${INCIDENTS} incidents in ${Date.now() - seedStart} ms\n`);
  const { rawKey } = await issueKey("console-e2e", "owner@example.com", {
    keys: createKeyRepository(client, tables.keys),
    clock: systemClock,
  });
  const [outcome] = await createFindingRecorder({ client, tables })([
    {
      keyHash: keyHash(rawKey),
      redacted: redactKey(rawKey),
      source: "github_partner",
      location: { url: "https://github.com/octo/leaky/blob/main/.env", kind: "content" },
      seenAt: new Date().toISOString(),
    },
  ]);
  leaked = { redacted: redactKey(rawKey), incidentId: outcome?.incidentId as string };
  const now = Date.now();
  await createAnomalyRepository(client, tables.anomalies).save(
    [0, 1, 2].map((i) => ({
      subject: `KEY#00000000000000b${i}`,
      anomaly: {
        type: (["rate_spike", "new_country", "ip_fanout"] as const)[i] as "rate_spike",
        severity: (["high", "medium", "low"] as const)[i] as "high",
        keyId: `00000000000000b${i}`,
        windowStart: new Date(now - i * 3_600_000).toISOString(),
        windowEnd: new Date(now - i * 3_600_000 + 60_000).toISOString(),
        count: 10 + i,
      },
    })),
  );
  await recordScannerHealth(client, tables.state, {
    scanner: "events_poller",
    lastRunAt: new Date().toISOString(),
    outcome: "ok",
    coverage: 0.97,
    backlog: 3,
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (message) => {
    // The stale-tab test provokes a 409 on purpose; Chromium logs every non-2xx fetch.
    if (message.type() === "error" && !message.text().includes("status of 409"))
      problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await monitor?.stop();
  rmSync(home, { recursive: true, force: true });
});

const leakedOf = (filter: (s: SeededIncident) => boolean) =>
  seeded.filter((s) => s.incident.kind === "leaked_key" && filter(s));
const OPEN_WORK = ["open", "notified", "acknowledged"];

async function rows(): Promise<string[]> {
  return page
    .locator("#queue tbody tr")
    .evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-incident") ?? ""));
}

async function focusedId(): Promise<string> {
  return page.evaluate(
    "document.activeElement && (document.activeElement.id || document.activeElement.textContent)",
  );
}

describe("the incident page", () => {
  it("shows the decision facts and one readable timeline", async () => {
    await page.goto(`${monitor.url}/console#/incident/${leaked.incidentId}`);
    await page.locator("#timeline").waitFor();
    expect({
      key: await page.locator("#key-status").textContent(),
      timeline: await page.locator("#timeline li").allTextContents(),
      sent: await page.locator("#notifications tbody tr").count(),
    }).toEqual({
      key: "compromised",
      timeline: [
        expect.stringContaining(
          "Seen by GitHub secret scanning at https://github.com/octo/leaky/blob/main/.env",
        ),
        expect.stringContaining("Incident opened"),
      ],
      sent: 3,
    });
  });

  it("tells a stale tab what changed instead of acting", async () => {
    await transitionIncident(
      leaked.incidentId,
      "acknowledge",
      "user:other-analyst",
      {
        incidents: createIncidentRepository(monitor.env.client, monitor.env.tables.incidents),
        clock: systemClock,
      },
      { reason: "taking this one" },
    );
    await page.locator("#reason").fill("not ours");
    await page.locator("[data-action=false_positive]").click();
    await page.locator("#stale").waitFor();
    expect({
      text: await page.locator("#stale").textContent(),
      focus: await focusedId(),
    }).toEqual({ text: expect.stringContaining("user:other-analyst"), focus: "stale" });
  });

  it("revokes the key with a reason", async () => {
    await page.locator("#revoke-reason").fill("owner asked");
    await page.getByRole("button", { name: "Revoke key" }).click();
    await page.locator("#key-status", { hasText: "revoked" }).waitFor();
    expect(await page.locator("#timeline").textContent()).toContain("Key revoked");
  });
});

describe("the queue with 500 incidents", () => {
  it("reaches every open-work incident with Show more, and says how many there are", async () => {
    await page.goto(`${monitor.url}/console`);
    await page.locator("#queue").waitFor();
    const expected = leakedOf((s) => OPEN_WORK.includes(s.incident.state)).length + 1;
    while ((await page.locator("#load-more").count()) > 0) {
      const before = (await rows()).length;
      await page.locator("#load-more").focus();
      await page.keyboard.press("Enter");
      await expect.poll(() => page.locator("#queue tbody tr").count()).toBeGreaterThan(before);
    }
    const ids = await rows();
    expect({
      shown: ids.length,
      distinct: new Set(ids).size,
      tab: await page.locator("#state-open_work").textContent(),
    }).toEqual({ shown: expected, distinct: expected, tab: `Open work (${expected})` });
  });

  it("filters by project and sorts by opening time", async () => {
    await page.locator("#project").fill("billing");
    await page.locator("#sort").selectOption("opened");
    await page.locator("#filters-apply").click();
    await expect
      .poll(async () => [...new Set(await page.locator("#queue tbody tr td:nth-child(6)").allTextContents())])
      .toEqual(["billing"]);
    await page.locator("#queue-summary").waitFor();
    const projects = await page.locator("#queue tbody tr td:nth-child(6)").allTextContents();
    const opened = await page.locator("#queue tbody tr td:nth-child(9)").allTextContents();
    expect({
      projects: new Set(projects),
      sorted: opened.join() === [...opened].sort().reverse().join(),
      focus: await focusedId(),
    }).toEqual({ projects: new Set(["billing"]), sorted: true, focus: "filters-apply" });
  });

  it("finds one incident by its key id", async () => {
    const target = leakedOf((s) => s.incident.state === "resolved")[0] as SeededIncident;
    await page.locator("#state-all").click();
    await page.locator("#state-all[aria-pressed=true]").waitFor();
    await page.locator("#project").fill("");
    await page.locator("#q").fill(target.incident.keyId);
    await page.locator("#filters-apply").click();
    await expect.poll(() => page.locator("#queue tbody tr").count()).toBe(1);
    expect(await rows()).toEqual([target.incident.incidentId]);
  });

  it("resolves 100 incidents at once with a reason, keeping the rows in place and announcing it", async () => {
    await page.goto(`${monitor.url}/console`);
    await page.locator("#queue").waitFor();
    await page.locator("#load-more").click();
    await expect.poll(() => page.locator("#queue tbody tr").count()).toBe(100);
    const before = await rows();
    await page.locator("#select-page").check();
    await page.locator("[data-bulk=resolve]").click();
    const refused = await page.locator("#bulk-status").textContent();
    await page.locator("#bulk-reason").fill("rotated in the March key sweep");
    await page.locator("[data-bulk=resolve]").click();
    await page.locator("#bulk-status", { hasText: "of 100 done" }).waitFor();
    await expect.poll(() => page.locator("#announcer").textContent()).toContain("100 of 100");
    const states = new Set(await page.locator("#queue tbody tr td.state-cell").allTextContents());
    expect({
      refused,
      order: (await rows()).join() === before.join(),
      states,
      focus: await page.evaluate(`document.activeElement.getAttribute("data-bulk")`),
    }).toEqual({
      refused: expect.stringContaining("Give a reason first"),
      order: true,
      states: new Set(["Resolved"]),
      focus: "resolve",
    });
  });
});

describe("anomaly triage", () => {
  it("lists anomalies with a data table for the chart and acknowledges one with a reason", async () => {
    await page.goto(`${monitor.url}/console#/anomalies`);
    await page.locator("#anomalies").waitFor();
    const dataRows = await page.locator("#chart-data tbody tr").count();
    await page.locator("#anomalies tbody tr input.pick").first().check();
    await page.locator("#a-reason").fill("owner's load test");
    await page.locator("#a-ack").click();
    await page.locator("#anomaly-status", { hasText: "Acknowledged 1 of 1" }).waitFor();
    const stored = await createConsoleAnomalies(monitor.env.client, monitor.env.tables.anomalies).list({
      days: 14,
      triage: "acknowledged",
      limit: 10,
    });
    expect({ dataRows: dataRows > 0, stored: stored.anomalies.map((a) => a.triage?.reason) }).toEqual({
      dataRows: true,
      stored: ["owner's load test"],
    });
  });

  it("reads at 390 px wide without sideways scrolling of the page", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${monitor.url}/console#/anomalies`);
    await page.locator("#anomaly-chart").waitFor();
    const widths = await page.evaluate(
      `[document.documentElement.scrollWidth, document.getElementById("anomaly-chart").getBoundingClientRect().width]`,
    );
    await page.setViewportSize({ width: 1280, height: 900 });
    expect((widths as number[]).map((w) => w <= 390)).toEqual([true, true]);
  });

  it("says so when nothing matches", async () => {
    await page.goto(`${monitor.url}/console#/anomalies`);
    await page.locator("#a-type").selectOption("credential_stuffing");
    await page.locator("#a-apply").click();
    await page.locator("#anomalies-empty").waitFor();
    expect(await page.locator("#anomalies-empty").textContent()).toContain("No anomaly matches");
  });
});

describe("accessibility", () => {
  for (const scheme of ["light", "dark"] as const) {
    it(`has no axe violations on any view in ${scheme} mode`, async () => {
      await page.emulateMedia({ colorScheme: scheme });
      const found: Record<string, unknown> = {};
      for (const [view, ready] of [
        ["", "#queue"],
        [`#/incident/${leaked.incidentId}`, "#timeline"],
        ["#/anomalies", "#anomalies"],
        ["#/health", "#health"],
      ] as const) {
        await page.goto(`${monitor.url}/console${view}`);
        await page.locator(ready).waitFor();
        const violations = await axeViolations(page);
        if (violations.length) found[view || "queue"] = violations;
      }
      expect(found).toEqual({});
    });
  }

  it("shows scanner health, telling a silent channel from a working one", async () => {
    await page.goto(`${monitor.url}/console#/health`);
    await page.locator("#health").waitFor();
    expect({
      poller: await page.locator("tr[data-scanner=events_poller] td").first().textContent(),
      sweep: await page.locator("tr[data-scanner=code_search] td").first().textContent(),
    }).toEqual({ poller: "ok", sweep: "never reported" });
  });

  it("ran without script errors or CSP violations", () => {
    expect(problems.map((p) => p.slice(0, 300))).toEqual([]);
  });
});

describe("deployed sign-in (a Cognito stand-in on the same origin)", () => {
  let server: Server;
  let origin: string;
  let tokenAnswer: { status: number; body: unknown };

  beforeAll(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const pageHandler = makeConsolePageHandler({ auth: "cognito", domain: origin, clientId: "test-client" });
    const api = makeConsoleApiHandler({
      incidents: createIncidentRepository(monitor.env.client, monitor.env.tables.incidents),
      anomalies: createConsoleAnomalies(monitor.env.client, monitor.env.tables.anomalies),
      actorOf: (event) =>
        event.headers.authorization === `Bearer ${"t".repeat(40)}` ? "user:alice" : undefined,
      canAct: () => true,
    });
    // The stand-in's documented behaviour (Cognito /oauth2/authorize and /oauth2/token): a
    // redirect back with ?code=, then a JSON token answer or {"error":"invalid_grant"} with 400.
    const routes: Route[] = [
      ...CONSOLE_PAGE_PATHS.map((path): Route => ({ method: "GET", path, handler: pageHandler })),
      ...CONSOLE_API_ROUTES.map(
        (r): Route => ({
          method: r.method,
          path: r.path,
          handler: async (event) =>
            (await api(event)).statusCode === 401 ? { statusCode: 401, body: "{}" } : api(event),
        }),
      ),
      {
        method: "GET",
        path: "/oauth2/authorize",
        handler: async () => ({
          statusCode: 302,
          headers: { location: `${origin}/console?code=abc` },
          body: "",
        }),
      },
      {
        method: "POST",
        path: "/oauth2/token",
        handler: async () => ({
          statusCode: tokenAnswer.status,
          headers: { "content-type": "application/json" },
          body: JSON.stringify(tokenAnswer.body),
        }),
      },
    ];
    server.on("request", routeRequests(routes));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("recovers from a failed code exchange without storing a token", async () => {
    tokenAnswer = { status: 400, body: { error: "invalid_grant" } };
    const tab = await browser.newPage();
    await tab.goto(`${origin}/console`);
    await tab.locator("#sign-in").waitFor();
    const stored = await tab.evaluate(
      `[sessionStorage.getItem("keywatch.session"), sessionStorage.getItem("keywatch.token")]`,
    );
    tokenAnswer = {
      status: 200,
      body: { access_token: "t".repeat(40), expires_in: 3600, token_type: "Bearer" },
    };
    await tab.locator("#sign-in").click();
    await tab.locator("#queue").waitFor();
    expect({ stored, who: await tab.locator("#who").textContent() }).toEqual({
      stored: [null, null],
      who: "alice · responder",
    });
    await tab.close();
  });

  it("offers a fresh sign-in when the token has expired", async () => {
    tokenAnswer = {
      status: 200,
      body: { access_token: "t".repeat(40), expires_in: 17, token_type: "Bearer" },
    };
    const tab = await browser.newPage();
    await tab.goto(`${origin}/console`);
    await tab.locator("#queue").waitFor();
    await tab.evaluate(
      `(() => { const s = JSON.parse(sessionStorage.getItem("keywatch.session")); s.expiresAt = Date.now() - 1; sessionStorage.setItem("keywatch.session", JSON.stringify(s)); })()`,
    );
    await tab.locator("#state-all").click();
    await tab.locator("#sign-in").waitFor();
    expect(await tab.locator("h1").textContent()).toBe("Signed out");
    await tab.close();
  });
});
