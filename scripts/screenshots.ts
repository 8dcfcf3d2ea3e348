/**
 * Regenerates the screenshots in docs/ from the real local runner in headless Chromium:
 * `npx tsx scripts/screenshots.ts`. Seeds a throwaway KEYWATCH_HOME with demo data first.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { type LocalMonitor, startLocalMonitor } from "../bin/local/runner.js";
import { readLocalSettings } from "../bin/local/settings.js";
import { createAnomalyRepository } from "../lambdas/adapters/anomaly-repository.js";
import { systemClock } from "../lambdas/adapters/clock.js";
import { createKeyRepository } from "../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../lambdas/adapters/finding-recorder.js";
import { recordScannerHealth } from "../lambdas/adapters/scanner-health.js";
import { issueKey } from "../lambdas/domain/issue-key.js";
import { generateKey, keyHash, redactKey } from "../lambdas/domain/key-format.js";
import { launchChromium } from "../test/support/browser.js";
import { seedIncidents } from "../test/support/incident-fixtures.js";

interface Shot {
  file: string;
  /** Opens the page to capture. */
  open(page: Page, monitor: LocalMonitor, seeded: Seeded): Promise<void>;
}

interface Seeded {
  incidentId: string;
}

const DOCS = join(import.meta.dirname, "..", "docs");

/** Every page worth a picture; add yours here. */
const SHOTS: Shot[] = [
  {
    file: "console-incidents.png",
    async open(page, monitor) {
      await page.goto(`${monitor.url}/console`);
      await page.locator("#queue").waitFor();
    },
  },
  {
    file: "console-incident.png",
    async open(page, monitor, seeded) {
      await page.goto(`${monitor.url}/console#/incident/${seeded.incidentId}`);
      await page.locator("#timeline").waitFor();
    },
  },
  {
    file: "console-anomalies.png",
    async open(page, monitor) {
      await page.goto(`${monitor.url}/console#/anomalies`);
      await page.locator("#anomalies").waitFor();
    },
  },
  {
    file: "report-form.png",
    async open(page, monitor) {
      await page.goto(`${monitor.url}/report`);
      await page.locator("form").first().waitFor();
    },
  },
];

async function seed(monitor: LocalMonitor): Promise<Seeded> {
  const { client, tables } = monitor.env;
  const keys = createKeyRepository(client, tables.keys);
  const record = createFindingRecorder({ client, tables });
  const now = Date.now();
  const leaked = await Promise.all(
    ["checkout-service", "render-farm", "mobile-app"].map(
      async (project) => (await issueKey(project, "owner@example.com", { keys, clock: systemClock })).rawKey,
    ),
  );
  const findingOf = (
    raw: string,
    url: string,
    source: "github_partner" | "github_event" | "user_report",
  ) => ({
    keyHash: keyHash(raw),
    redacted: redactKey(raw),
    source,
    location: { url },
    seenAt: new Date(now).toISOString(),
  });
  const [first] = await record([
    findingOf(leaked[0] as string, "https://github.com/octo/checkout/blob/main/.env", "github_partner"),
    findingOf(leaked[1] as string, "https://github.com/octo/render/issues/12#issuecomment-1", "github_event"),
    findingOf(leaked[2] as string, "https://gist.github.com/octo/abc", "user_report"),
    findingOf(generateKey(), "https://pastebin.example/xyz", "user_report"),
  ]);
  await record([
    findingOf(leaked[0] as string, "https://github.com/fork/checkout/blob/main/.env", "github_event"),
  ]);
  const types = ["new_country", "ip_fanout", "rate_spike", "credential_stuffing", "use_after_leak"] as const;
  const anomalies = [];
  for (let day = 0; day < 14; day++) {
    for (let i = 0; i < ((day * 7) % 5) + 1; i++) {
      const start = now - day * 86_400_000 - i * 60_000;
      const keyId = keyHash(String(i)).slice(0, 16);
      anomalies.push({
        subject: `KEY#${keyId}`,
        anomaly: {
          type: types[(day + i) % types.length] as (typeof types)[number],
          severity: "medium" as const,
          keyId,
          windowStart: new Date(start).toISOString(),
          windowEnd: new Date(start + 60_000).toISOString(),
          count: 1,
        },
      });
    }
  }
  await createAnomalyRepository(client, tables.anomalies).save(anomalies);
  // A queue worth looking at: older incidents of every state, as the browser tests use them.
  await seedIncidents(client, tables.incidents, 60, { seed: 7 });
  await recordScannerHealth(client, tables.state, {
    scanner: "events_poller",
    lastRunAt: new Date(now).toISOString(),
    outcome: "ok",
    coverage: 0.98,
    backlog: 4,
  });
  return { incidentId: first?.incidentId as string };
}

const home = mkdtempSync(join(tmpdir(), "keywatch-screenshots-"));
const monitor = await startLocalMonitor(readLocalSettings({ PORT: "0", KEYWATCH_HOME: home }), {
  log: () => {},
  schedulers: false,
});
const browser = await launchChromium();
try {
  const seeded = await seed(monitor);
  await new Promise((resolve) => setTimeout(resolve, 2_000)); // let the notifier move incidents to "notified"
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  for (const shot of SHOTS) {
    await shot.open(page, monitor, seeded);
    await page.screenshot({ path: join(DOCS, shot.file), fullPage: true });
    process.stdout.write(`wrote docs/${shot.file}\n`);
  }
} finally {
  await browser.close();
  await monitor.stop();
  rmSync(home, { recursive: true, force: true });
}
