/**
 * Report-form benchmark on the local runner (DynamoDB Local, in-process notifier, outbox):
 * 1. report → owner email in the outbox: median and p99 over BENCH_REPORTS reports of registered
 *    keys (goal: p99 < 5 s), plus the POST /reports answer time;
 * 2. requests/s POST /reports sustains (limit raised so nothing is refused), next to, in the same
 *    run, the cost of a refusal (429: one conditional DynamoDB write) and GET /healthz (the HTTP
 *    floor of the same server).
 * Run: npm run bench:report   (needs Java 17+ for DynamoDB Local)
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { reportFormRoutes } from "../bin/local/report-form-routes.js";
import { startLocalMonitor } from "../bin/local/runner.js";
import { homePaths, readLocalSettings } from "../bin/local/settings.js";
import { systemClock } from "../lambdas/adapters/clock.js";
import { createKeyRepository } from "../lambdas/adapters/dynamodb-key-repository.js";
import { routeRequests } from "../lambdas/adapters/local-http.js";
import { incidentIdFor } from "../lambdas/domain/incident.js";
import { issueKey } from "../lambdas/domain/issue-key.js";
import { generateKey, keyHash } from "../lambdas/domain/key-format.js";

const REPORTS = Number(process.env.BENCH_REPORTS ?? 100);
/** Reports in flight at once in part 1 (a burst of reporters, not one after another). */
const REPORT_CONCURRENCY = Number(process.env.BENCH_REPORT_CONCURRENCY ?? 4);
const THROUGHPUT_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

async function waitForEmail(emailsDir: string, incidentId: string, deadline: number): Promise<number> {
  for (;;) {
    if (existsSync(emailsDir) && readdirSync(emailsDir).some((name) => name.includes(incidentId))) {
      return performance.now();
    }
    if (performance.now() > deadline) throw new Error(`no email for ${incidentId} within the deadline`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function throughput(url: string, init: () => RequestInit, expectStatus: number) {
  const start = performance.now();
  const statuses = await pool(THROUGHPUT_REQUESTS, CONCURRENCY, async () => {
    const response = await fetch(url, init());
    await response.arrayBuffer();
    return response.status;
  });
  const seconds = (performance.now() - start) / 1000;
  const unexpected = statuses.filter((s) => s !== expectStatus).length;
  return { perSecond: THROUGHPUT_REQUESTS / seconds, unexpected };
}

const reportPost = (text: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ text: `stack trace\n  at client (key=${text})\n`, description: "benchmark" }),
});

async function main(): Promise<void> {
  const cpu = cpus();
  process.stdout.write(
    `machine: ${cpu[0]?.model ?? "unknown cpu"}, ${cpu.length} cores, node ${process.version}, ` +
      `load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`,
  );
  const home = mkdtempSync(join(tmpdir(), "keywatch-bench-report-"));
  // Every benchmark request comes from 127.0.0.1: lift the per-network limit for parts 1 and 2.
  process.env.KEYWATCH_REPORT_RATE_LIMIT = "1000000";
  const monitor = await startLocalMonitor(readLocalSettings({ PORT: "0", KEYWATCH_HOME: home }), {
    log: () => {},
    schedulers: false,
  });
  const refusing = createServer(
    routeRequests(
      reportFormRoutes(
        {
          settings: readLocalSettings({ PORT: "0", KEYWATCH_HOME: home }),
          env: monitor.env,
          paths: homePaths(home),
          clock: systemClock,
          log: () => {},
        },
        { KEYWATCH_REPORT_RATE_LIMIT: "1" },
      ),
    ),
  );
  await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
  const refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
  try {
    // Part 1: report → owner email.
    const keys = createKeyRepository(monitor.env.client, monitor.env.tables.keys);
    const rawKeys = await pool(REPORTS, 8, async (i) => {
      return (await issueKey(`bench-${i}`, `owner-${i}@example.com`, { keys, clock: systemClock })).rawKey;
    });
    const emailsDir = homePaths(home).emails;
    const measured = await pool(REPORTS, REPORT_CONCURRENCY, async (i) => {
      const rawKey = rawKeys[i] as string;
      const start = performance.now();
      const response = await fetch(`${monitor.url}/reports`, reportPost(rawKey));
      await response.arrayBuffer();
      const answered = performance.now();
      if (response.status !== 200) throw new Error(`report ${i} answered ${response.status}`);
      const emailed = await waitForEmail(emailsDir, incidentIdFor(keyHash(rawKey)), start + 60_000);
      return { answerMs: answered - start, emailMs: emailed - start };
    });
    const toEmail = summary(measured.map((m) => m.emailMs));
    const toAnswer = summary(measured.map((m) => m.answerMs));
    process.stdout.write(
      `\nreport → owner email in the outbox (${REPORTS} reports, ${REPORT_CONCURRENCY} in flight)\n` +
        `  email:  median ${(toEmail.median / 1000).toFixed(2)} s, p99 ${(toEmail.p99 / 1000).toFixed(2)} s, max ${(toEmail.max / 1000).toFixed(2)} s  (goal p99 < 5 s: ${toEmail.p99 < 5000 ? "met" : "NOT met"})\n` +
        `  answer: median ${toAnswer.median.toFixed(0)} ms, p99 ${toAnswer.p99.toFixed(0)} ms\n`,
    );

    // Part 2: sustained requests/s, side by side.
    const accepted = await throughput(`${monitor.url}/reports`, () => reportPost(generateKey()), 200);
    await fetch(`${refusingUrl}/reports`, reportPost(generateKey()));
    const refused = await throughput(`${refusingUrl}/reports`, () => reportPost(generateKey()), 429);
    const healthz = await throughput(`${monitor.url}/healthz`, () => ({ method: "GET" }), 200);
    process.stdout.write(
      `\nrequests/s (${THROUGHPUT_REQUESTS} requests, ${CONCURRENCY} concurrent, one process)\n` +
        `  POST /reports accepted (scan + report + recordFindings): ${accepted.perSecond.toFixed(1)}/s` +
        `${accepted.unexpected ? ` (${accepted.unexpected} unexpected statuses)` : ""}\n` +
        `  POST /reports refused with 429 (rate-limit write only):   ${refused.perSecond.toFixed(1)}/s` +
        `${refused.unexpected ? ` (${refused.unexpected} unexpected statuses)` : ""}\n` +
        `  GET /healthz (reference, same server):                    ${healthz.perSecond.toFixed(1)}/s\n`,
    );
  } finally {
    await new Promise<void>((resolve) => refusing.close(() => resolve()));
    refusing.closeAllConnections();
    await monitor.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
