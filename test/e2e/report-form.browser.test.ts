import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalMonitor, startLocalMonitor } from "../../bin/local/runner.js";
import { homePaths, readLocalSettings } from "../../bin/local/settings.js";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { keyHash } from "../../lambdas/domain/key-format.js";
import { axeViolations } from "../support/axe.js";
import { launchChromium } from "../support/browser.js";

const home = mkdtempSync(join(tmpdir(), "keywatch-report-e2e-"));
const paths = homePaths(home);
let monitor: LocalMonitor;
let browser: Browser;

beforeAll(async () => {
  monitor = await startLocalMonitor(readLocalSettings({ PORT: "0", KEYWATCH_HOME: home }), {
    log: () => {},
    schedulers: false,
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await monitor?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function newOwnerKey(project: string, ownerEmail: string) {
  const keys = createKeyRepository(monitor.env.client, monitor.env.tables.keys);
  return (await issueKey(project, ownerEmail, { keys, clock: systemClock })).rawKey;
}

/** Tabs from the text box to the submit button (proving keyboard reachability) and presses Enter. */
async function submitWithKeyboard(page: Page): Promise<void> {
  for (let i = 0; i < 12; i++) {
    const onButton = await page.evaluate<boolean>(
      "document.activeElement !== null && document.activeElement.matches('button[type=submit]')",
    );
    if (onButton) {
      await page.keyboard.press("Enter");
      return;
    }
    await page.keyboard.press("Tab");
  }
  throw new Error("the submit button is not reachable with Tab");
}

/** What the pipeline must have produced for a reported key: incident, owner email, report alert. */
async function expectPipelineOutcome(rawKey: string, ownerEmail: string): Promise<void> {
  const key = await createKeyRepository(monitor.env.client, monitor.env.tables.keys).get(keyHash(rawKey));
  expect(key?.status).toBe("compromised");
  const incident = await createIncidentRepository(monitor.env.client, monitor.env.tables.incidents).get(
    key?.incidentId ?? "",
  );
  expect(incident?.kind).toBe("leaked_key");
  // The notifier may already have emailed the owner and moved it on: both are right here.
  expect(["open", "notified"]).toContain(incident?.state);
  const incidentId = incident?.incidentId ?? "";

  const email = await waitFor("the owner's email in the outbox", () => {
    if (!existsSync(paths.emails)) return undefined;
    const file = readdirSync(paths.emails).find((name) => name.includes(incidentId));
    return file ? readFileSync(join(paths.emails, file), "utf8") : undefined;
  });
  expect(email).toMatch(new RegExp(`^To: .*${ownerEmail.replaceAll(".", "\\.")}`, "m"));
  expect(email).not.toContain(rawKey);

  const alert = await waitFor("the report_received alert", () => {
    if (!existsSync(paths.alerts)) return undefined;
    return readFileSync(paths.alerts, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { message: Record<string, unknown> })
      .find((line) => line.message.kind === "report_received" && line.message.incidentId === incidentId);
  });
  expect(alert.message).toMatchObject({ reportId: expect.any(String), description: "Seen in a public gist" });
  expect(readFileSync(paths.alerts, "utf8")).not.toContain(rawKey);
}

describe("report form in a real browser, with JavaScript", () => {
  it("reports a pasted key with the keyboard only, shows the confirmation, and the pipeline responds", async () => {
    // Arrange
    const owner = "owner-js@example.com";
    const rawKey = await newOwnerKey("proj-browser-js", owner);
    const page = await browser.newPage();
    // Script errors and CSP violations (an inline script or style would be one).
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) problems.push(message.text());
    });
    await page.goto(`${monitor.url}/report`);
    // Act: paste a log with the key, move through the form with Tab, submit with Enter.
    await page.getByLabel("The key, or text that contains it").focus();
    await page.keyboard.insertText(`2026-03-01 ERROR auth failed\n  api_key=${rawKey}\n  at client.js:42\n`);
    await page.keyboard.press("Tab");
    await page.getByLabel("What happened?").fill("Seen in a public gist");
    await page.getByLabel("What happened?").focus();
    await submitWithKeyboard(page);
    // Assert
    await page.getByRole("heading", { name: "Report received" }).waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(`${monitor.url}/report`);
    expect(await page.locator("main").textContent()).toContain("its owner notified");
    expect(problems).toEqual([]);
    await expectPipelineOutcome(rawKey, owner);
    await page.close();
  });

  it("shows a visible focus ring on the keyboard-focused submit button", async () => {
    const page = await browser.newPage();
    await page.goto(`${monitor.url}/report`);
    await page.locator("form[data-report-form] input[name=email]").focus();
    await page.keyboard.press("Tab");
    const outline = await page.evaluate<{ tag: string; style: string; width: string }>(`(() => {
      const style = getComputedStyle(document.activeElement);
      return { tag: document.activeElement.tagName, style: style.outlineStyle, width: style.outlineWidth };
    })()`);
    expect(outline).toEqual({ tag: "BUTTON", style: "solid", width: "3px" });
    await page.close();
  });

  it("keeps the honeypot out of sight, out of the tab order and hidden from screen readers", async () => {
    const page = await browser.newPage();
    await page.goto(`${monitor.url}/report`);
    const box = await page.locator("#subject").boundingBox();
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(0);
    expect(await page.locator("#subject").getAttribute("tabindex")).toBe("-1");
    expect(await page.locator("form[data-report-form] .hp").getAttribute("aria-hidden")).toBe("true");
    await page.close();
  });
});

describe("report form in a real browser, without JavaScript", () => {
  it("posts the form and answers with the server's confirmation page", async () => {
    // Arrange
    const owner = "owner-nojs@example.com";
    const rawKey = await newOwnerKey("proj-browser-nojs", owner);
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${monitor.url}/report`);
    // Act
    await page.getByLabel("The key, or text that contains it").fill(`leaked: ${rawKey}`);
    await page.getByLabel("What happened?").fill("Seen in a public gist");
    await page.getByLabel("What happened?").focus();
    await submitWithKeyboard(page);
    // Assert
    await page.getByRole("heading", { name: "Report received" }).waitFor({ timeout: 15_000 });
    expect(page.url()).toBe(`${monitor.url}/reports`);
    expect(await page.title()).toContain("Report received");
    await expectPipelineOutcome(rawKey, owner);
    await context.close();
  });

  it("shows a plain error, with the text kept, when no key is in it", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${monitor.url}/report`);
    await page.getByLabel("The key, or text that contains it").fill("I think my key leaked");
    await page.getByRole("button", { name: "Send report" }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toContain("found no Smelter API key");
    expect(await page.getByLabel("The key, or text that contains it").inputValue()).toBe(
      "I think my key leaked",
    );
    await context.close();
  });
});

describe("errors take focus and are announced", () => {
  it("with JavaScript, focus moves to the error summary", async () => {
    const page = await browser.newPage();
    await page.goto(`${monitor.url}/report`);
    await page.getByLabel("The key, or text that contains it").fill("I think my key leaked");
    await page.getByRole("button", { name: "Send report" }).click();
    await page.locator("#summary").waitFor();
    expect(
      await page.evaluate("[document.activeElement.id, document.activeElement.getAttribute('role')]"),
    ).toEqual(["summary", "alert"]);
    await page.close();
  });

  it("without JavaScript, the error page opens with focus on the error summary", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${monitor.url}/report`);
    await page.getByLabel("The key, or text that contains it").fill("I think my key leaked");
    await page.getByRole("button", { name: "Send report" }).click();
    await page.locator("#summary").waitFor();
    expect(await page.evaluate("document.activeElement.id")).toBe("summary");
    await context.close();
  });
});

describe("misuse without pasting the key (no JavaScript)", () => {
  it("sends the key id and what was seen, gives a reference and alerts the security team", async () => {
    const rawKey = await newOwnerKey("proj-misuse", "owner-misuse@example.com");
    const keyId = keyHash(rawKey).slice(0, 16);
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${monitor.url}/report`);
    await page.getByLabel("Key id or shortened key").fill(keyId);
    await page.getByLabel("What did you see?").fill("Requests from a country we never use");
    await page.getByRole("button", { name: "Tell the security team" }).click();
    await page.getByRole("heading", { name: "Report received" }).waitFor();
    const reference = await page.locator("#reference").textContent();
    const alert = await waitFor("the misuse alert", () =>
      existsSync(paths.alerts)
        ? readFileSync(paths.alerts, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((line) => JSON.parse(line) as { message: Record<string, unknown> })
            .find((line) => line.message.kind === "misuse_reported" && line.message.keyRef === keyId)
        : undefined,
    );
    expect(alert.message).toMatchObject({ reference, registered: true, projectId: "proj-misuse" });
    await context.close();
  });
});

describe("accessibility of the form", () => {
  for (const scheme of ["light", "dark"] as const) {
    it(`has no axe violations in ${scheme} mode, blank and with errors`, async () => {
      const page = await browser.newPage();
      await page.emulateMedia({ colorScheme: scheme });
      await page.goto(`${monitor.url}/report`);
      const blank = await axeViolations(page);
      await page.getByLabel("The key, or text that contains it").fill("no key here");
      await page.getByRole("button", { name: "Send report" }).click();
      await page.locator("#summary").waitFor();
      const withErrors = await axeViolations(page);
      expect({ blank, withErrors }).toEqual({ blank: [], withErrors: [] });
      await page.close();
    });
  }
});
