import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalMonitor, startLocalMonitor } from "../../bin/local/runner.js";
import { readLocalSettings } from "../../bin/local/settings.js";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { generateKey, keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import { launchChromium } from "../support/browser.js";

const home = mkdtempSync(join(tmpdir(), "keywatch-console-e2e-"));
let monitor: LocalMonitor;
let browser: Browser;
let page: Page;
let leaked: { redacted: string; incidentId: string };
let unknownRedacted: string;
const problems: string[] = [];

beforeAll(async () => {
  monitor = await startLocalMonitor(readLocalSettings({ PORT: "0", KEYWATCH_HOME: home }), {
    log: () => {},
    schedulers: false,
  });
  const { client, tables } = monitor.env;
  const { rawKey } = await issueKey("console-e2e", "owner@example.com", {
    keys: createKeyRepository(client, tables.keys),
    clock: systemClock,
  });
  const stranger = generateKey();
  const record = createFindingRecorder({ client, tables });
  const seenAt = new Date().toISOString();
  const [outcome] = await record([
    {
      keyHash: keyHash(rawKey),
      redacted: redactKey(rawKey),
      source: "github_partner",
      location: { url: "https://github.com/octo/leaky/blob/main/.env", kind: "content" },
      seenAt,
    },
    {
      keyHash: keyHash(stranger),
      redacted: redactKey(stranger),
      source: "user_report",
      location: { url: "https://pastebin.example/abc" },
      seenAt,
    },
  ]);
  leaked = { redacted: redactKey(rawKey), incidentId: outcome?.incidentId as string };
  unknownRedacted = redactKey(stranger);
  browser = await launchChromium();
  page = await browser.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await monitor?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("security console in Chromium", () => {
  it("lists the incident with its state, severity, sources and occurrence count", async () => {
    await page.goto(`${monitor.url}/console`);
    const row = page.locator(`tr[data-incident="${leaked.incidentId}"]`);
    await row.waitFor();
    expect(await row.locator("td").allTextContents()).toEqual([
      leaked.redacted,
      expect.stringMatching(/^(open|notified)$/),
      "high",
      "github_partner",
      "1",
      "console-e2e",
      expect.any(String),
    ]);
  });

  it("lists the unknown-key finding separately", async () => {
    await expect(page.getByText(unknownRedacted).count()).resolves.toBe(1);
  });

  it("draws the anomaly chart as SVG", async () => {
    await expect(page.locator("svg#anomaly-chart").count()).resolves.toBe(1);
  });

  it("opens the incident with its occurrence link and audit trail", async () => {
    await page.getByRole("link", { name: leaked.redacted }).click();
    await page.locator("#audit").waitFor();
    const link = page.getByRole("link", { name: "https://github.com/octo/leaky/blob/main/.env" });
    expect([await link.count(), await page.locator("#audit .audit-entry").first().textContent()]).toEqual([
      1,
      expect.stringContaining("opened"),
    ]);
  });

  it("acknowledges the incident and shows the audit entry with who did it", async () => {
    await page.getByRole("button", { name: "Acknowledge" }).click();
    await page.locator("#incident-state", { hasText: "acknowledged" }).waitFor();
    const entries = await page.locator("#audit .audit-entry").allTextContents();
    expect(entries.some((e) => e.includes("acknowledged") && e.includes("user:local-console"))).toBe(true);
  });

  it("ran without script errors or CSP violations", () => {
    expect(problems).toEqual([]);
  });
});
