/**
 * Partner-webhook benchmark.
 * 1. (printed second) Verified deliveries per second through the handler, batch of 100 tokens (signature check,
 *    strict parse, findings, labels), with an in-memory recorder (the handler's own cost) and
 *    with the real recorder on DynamoDB Local (every token a valid key: 100 findings each), and
 *    the replay of those deliveries (nothing new written), side by side.
 * 2. (run first, on an idle notifier) End to end on the local runner (DynamoDB Local, in-process notifier, outbox), public keys
 *    from the GitHub stand-in: single-token deliveries of freshly registered keys, one at a time;
 *    HTTP answer p50/p99 (goal < 200 ms) and owner email in the outbox p50/p99 (goal < 5 s).
 * 3. Floods (issue 13), over HTTP on the same local runner: one signed delivery of 1,000 alerts
 *    (10 registered keys, 990 minted), its redelivery, and one report holding as many keys as
 *    64 KiB allows (10 registered): HTTP answer time (goal: 2xx within GitHub's 30 s), every
 *    registered key labelled / quarantined, owner emails, and the alerts written, by kind.
 * Run: npm run bench:webhook   (needs Java 17+ for DynamoDB Local)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { startLocalMonitor } from "../bin/local/runner.js";
import { homePaths, readLocalSettings } from "../bin/local/settings.js";
import { systemClock } from "../lambdas/adapters/clock.js";
import { createKeyRepository } from "../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../lambdas/adapters/finding-recorder.js";
import type { Finding, FindingOutcome } from "../lambdas/domain/finding.js";
import { incidentIdFor } from "../lambdas/domain/incident.js";
import { issueKey } from "../lambdas/domain/issue-key.js";
import { generateKey, keyHash } from "../lambdas/domain/key-format.js";
import { partnerPublicKey } from "../lambdas/domain/partner-signature.js";
import { makeSecretScanningHandler } from "../lambdas/handlers/secret-scanning.js";
import { startGitHubStandIn } from "../standin/github/github-stand-in.js";
import { generateSigningKey, published, type TestSigningKey } from "../test/support/partner-keys.js";

const CPU_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const DB_DELIVERIES = Number(process.env.BENCH_DB_DELIVERIES ?? 5);
const E2E_DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 100);
const BATCH = 100;

const quiet = { info() {}, warn() {}, error() {} };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50).toFixed(1),
    p99: percentile(sorted, 99).toFixed(1),
    max: (sorted.at(-1) ?? Number.NaN).toFixed(1),
  };
}

function batchBody(tokens: string[]): Buffer {
  return Buffer.from(
    JSON.stringify(
      tokens.map((token, i) => ({
        token,
        type: "smelter_api_key",
        url: `https://github.com/octo/demo/blob/${i.toString(16).padStart(40, "0")}/config.env`,
        source: "commit",
      })),
    ),
  );
}

function eventFor(signer: TestSigningKey, body: Buffer): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "POST /github/secret-scanning",
    headers: {
      "content-type": "application/json",
      "github-public-key-identifier": signer.keyIdentifier,
      "github-public-key-signature": signer.sign(body),
    },
    requestContext: { requestId: "bench" },
    body: body.toString("utf8"),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

async function waitForEmail(emailsDir: string, incidentId: string, deadline: number): Promise<number> {
  for (;;) {
    if (existsSync(emailsDir) && readdirSync(emailsDir).some((name) => name.includes(incidentId))) {
      return performance.now();
    }
    if (performance.now() > deadline) throw new Error(`no email for ${incidentId} within the deadline`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function main() {
  // Per-request INFO lines of the handler and notifier would drown the figures.
  process.env.LOG_LEVEL ??= "ERROR";
  const cpu = cpus()[0]?.model ?? "unknown";
  console.log(
    `machine: ${cpu}, ${cpus().length} cores, node ${process.version}, load(1m) ${loadavg()[0]?.toFixed(2)}`,
  );
  const signer = generateSigningKey();
  const directory = { keyFor: async () => partnerPublicKey(signer.keyIdentifier, signer.publicKeyPem, true) };

  // 1a. The handler's own cost: in-memory recorder (5 registered keys in each batch of 100).
  const registered = new Set<string>();
  const tokens = Array.from({ length: BATCH }, (_, i) => {
    const key = generateKey();
    if (i % 20 === 0) registered.add(keyHash(key));
    return key;
  });
  const inMemory = makeSecretScanningHandler({
    recordFindings: async (findings: Finding[]): Promise<FindingOutcome[]> =>
      findings.map((f) => ({
        keyHash: f.keyHash,
        status: registered.has(f.keyHash) ? "registered" : "unknown",
        incidentId: incidentIdFor(f.keyHash),
        newOccurrence: false,
      })),
    publicKeys: directory,
    prefixes: ["smk_"],
    clock: systemClock,
    logger: quiet,
  });
  const cpuEvent = eventFor(signer, batchBody(tokens));
  let deliveries = 0;
  const cpuStart = performance.now();
  while (performance.now() - cpuStart < CPU_SECONDS * 1000) {
    const result = await inMemory(cpuEvent);
    if (result.statusCode !== 200) throw new Error(`unexpected ${result.statusCode}`);
    deliveries++;
  }
  const cpuRate = deliveries / ((performance.now() - cpuStart) / 1000);

  // 2. Local runner with the stand-in playing GitHub (also hosts DynamoDB Local for 1b).
  const standIn = await startGitHubStandIn({ publicKeys: [published(signer)] });
  const home = mkdtempSync(join(tmpdir(), "kw-bench-webhook-"));
  const settings = readLocalSettings({ PORT: "0", KEYWATCH_HOME: home, GITHUB_API_URL: standIn.url });
  const monitor = await startLocalMonitor(settings, { log: () => {}, schedulers: false });
  try {
    const { client, tables } = monitor.env;

    // 2. End to end: HTTP answer and email in the outbox, single-token deliveries.
    const keys = createKeyRepository(client, tables.keys);
    const emails = homePaths(home).emails;
    const answers: number[] = [];
    const emailed: number[] = [];
    const url = `${monitor.url}/github/secret-scanning`;
    const WARMUP = 3;
    let cold = 0;
    for (let i = 0; i < E2E_DELIVERIES + WARMUP; i++) {
      const { rawKey } = await issueKey("bench-project", "owner@example.com", { keys, clock: systemClock });
      const body = batchBody([rawKey]);
      const headers = {
        "content-type": "application/json",
        "github-public-key-identifier": signer.keyIdentifier,
        "github-public-key-signature": signer.sign(body),
      };
      const start = performance.now();
      const response = await fetch(url, { method: "POST", headers, body });
      const labels = (await response.json()) as { label: string }[];
      const answered = performance.now();
      if (response.status !== 200 || labels[0]?.label !== "true_positive") {
        throw new Error(`unexpected answer ${response.status} ${JSON.stringify(labels)}`);
      }
      const mailed = await waitForEmail(emails, incidentIdFor(keyHash(rawKey)), start + 30_000);
      if (i === 0) cold = answered - start;
      // The first deliveries fetch GitHub's keys and warm the JIT: reported apart.
      if (i < WARMUP) continue;
      answers.push(answered - start);
      emailed.push(mailed - start);
    }
    console.log(
      `\n2. end to end on the local runner, ${E2E_DELIVERIES} single-token deliveries after ${WARMUP} warm-up (ms); first (cold, fetches keys): ${cold.toFixed(1)} ms`,
    );
    console.table([
      { measure: "HTTP answer (goal < 200 ms)", ...summary(answers) },
      { measure: "owner email in outbox (goal < 5 s)", ...summary(emailed) },
    ]);
    // 1b. Real recorder on DynamoDB Local: 100 valid keys per delivery, then the same deliveries replayed.
    const withDb = makeSecretScanningHandler({
      recordFindings: createFindingRecorder({ client, tables }),
      publicKeys: directory,
      prefixes: ["smk_"],
      clock: systemClock,
      logger: quiet,
    });
    const dbEvents = Array.from({ length: DB_DELIVERIES }, () =>
      eventFor(signer, batchBody(Array.from({ length: BATCH }, () => generateKey()))),
    );
    const timeAll = async () => {
      const start = performance.now();
      for (const event of dbEvents) {
        const result = await withDb(event);
        if (result.statusCode !== 200) throw new Error(`unexpected ${result.statusCode}`);
      }
      return dbEvents.length / ((performance.now() - start) / 1000);
    };
    const dbRate = await timeAll();
    const replayRate = await timeAll();

    console.log(`\n1. verified deliveries per second, batch of ${BATCH} tokens`);
    console.table([
      {
        path: "handler, in-memory recorder",
        "deliveries/s": cpuRate.toFixed(0),
        "tokens/s": (cpuRate * BATCH).toFixed(0),
      },
      {
        path: "handler + DynamoDB Local, new findings",
        "deliveries/s": dbRate.toFixed(2),
        "tokens/s": (dbRate * BATCH).toFixed(0),
      },
      {
        path: "handler + DynamoDB Local, replay",
        "deliveries/s": replayRate.toFixed(2),
        "tokens/s": (replayRate * BATCH).toFixed(0),
      },
    ]);

    console.log(
      `public-key fetches from the stand-in: ${standIn.count("/meta/public_keys/secret_scanning")}`,
    );

    await floods({ monitorUrl: monitor.url, home, signer, keys });
  } finally {
    await monitor.stop();
    await standIn.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

const FLOOD_ALERTS = Number(process.env.BENCH_FLOOD_ALERTS ?? 1_000);

/** Section 3: a 1,000-alert delivery, its redelivery and a 64 KiB report, over HTTP, counted. */
async function floods(options: {
  monitorUrl: string;
  home: string;
  signer: TestSigningKey;
  keys: ReturnType<typeof createKeyRepository>;
}) {
  const paths = homePaths(options.home);
  const alertKinds = () => {
    const counts: Record<string, number> = {};
    if (!existsSync(paths.alerts)) return counts;
    for (const line of readFileSync(paths.alerts, "utf8").split("\n").filter(Boolean)) {
      const kind = String((JSON.parse(line) as { message: { kind?: string } }).message.kind);
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    return counts;
  };
  const diff = (before: Record<string, number>, after: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(after)
        .map(([k, v]) => [k, v - (before[k] ?? 0)])
        .filter(([, v]) => Number(v) > 0),
    );
  const registered = async (n: number) => {
    const raw: string[] = [];
    for (let i = 0; i < n; i++) {
      raw.push(
        (await issueKey("flood", "owner@example.com", { keys: options.keys, clock: systemClock })).rawKey,
      );
    }
    return raw;
  };
  const emailsOf = async (raw: string[], start: number) => {
    for (const key of raw) await waitForEmail(paths.emails, incidentIdFor(keyHash(key)), start + 300_000);
    return performance.now() - start;
  };
  const rows: Record<string, string | number>[] = [];

  const ours = await registered(10);
  const tokens = [...ours, ...Array.from({ length: FLOOD_ALERTS - ours.length }, () => generateKey())];
  const body = batchBody(tokens);
  const post = () =>
    fetch(`${options.monitorUrl}/github/secret-scanning`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "github-public-key-identifier": options.signer.keyIdentifier,
        "github-public-key-signature": options.signer.sign(body),
      },
      body,
    });
  for (const name of [
    `delivery of ${FLOOD_ALERTS} alerts (10 ours)`,
    "the same delivery again (GitHub retry)",
  ]) {
    const before = alertKinds();
    const start = performance.now();
    const response = await post();
    const labels = (await response.json()) as Array<{ label: string }>;
    const answered = performance.now() - start;
    const mailed = await emailsOf(ours, start);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    rows.push({
      input: name,
      status: response.status,
      "answer s": (answered / 1000).toFixed(2),
      "true positives": Array.isArray(labels)
        ? labels.filter((l) => l.label === "true_positive").length
        : "-",
      "all owner emails s": (mailed / 1000).toFixed(2),
      "alerts written": JSON.stringify(diff(before, alertKinds())),
    });
  }

  const reported = await registered(10);
  const text = [...reported];
  while ((text.length + 1) * 43 < 64 * 1024 - 100) text.push(generateKey());
  const before = alertKinds();
  const start = performance.now();
  const response = await fetch(`${options.monitorUrl}/reports`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text: text.join(" ") }),
  });
  await response.text();
  const answered = performance.now() - start;
  const mailed = await emailsOf(reported, start);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const quarantined = (await Promise.all(reported.map((k) => options.keys.get(keyHash(k))))).filter(
    (k) => k?.status === "compromised",
  ).length;
  rows.push({
    input: `report of ${text.length} keys (10 ours, 64 KiB)`,
    status: response.status,
    "answer s": (answered / 1000).toFixed(2),
    "true positives": `${quarantined} quarantined`,
    "all owner emails s": (mailed / 1000).toFixed(2),
    "alerts written": JSON.stringify(diff(before, alertKinds())),
  });
  console.log(
    "\n3. floods over HTTP on the local runner (unknown keys: one digest per source and window, sent by the schedule after the window closes)",
  );
  console.table(rows);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
