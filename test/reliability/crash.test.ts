import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import type { CrashPoint } from "../../bin/local/crash-points.js";
import { homePaths } from "../../bin/local/settings.js";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { createDocumentClient } from "../../lambdas/adapters/dynamodb-client.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { localTableNames } from "../../lambdas/adapters/table-specs.js";
import { incidentIdFor } from "../../lambdas/domain/incident.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { keyHash } from "../../lambdas/domain/key-format.js";
import { generateSigningKey, type KeysServer, published, startKeysServer } from "../support/partner-keys.js";

/**
 * Crash consistency of the whole local pipeline (issue 16): `keywatch start` runs as a real
 * process tree (node + DynamoDB Local); each run is killed with SIGKILL at one point of the
 * pipeline (KEYWATCH_CRASH_AT, test-only) or from outside (the whole process group, at a random
 * moment after the first acknowledgement); the next run starts on the same data. Signed partner
 * deliveries that got no answer are re-sent, as GitHub does. At the end, every acknowledged key
 * has exactly one incident, in `notified`, one owner email, one security alert and one key event;
 * a second email or alert only where a kill fell between the provider accepting it and the
 * ledger marking it sent (after-send), the one duplicate the protocol documents as unavoidable.
 *
 * CI size: one cycle (5 kill points + 1 tree kill). KEYWATCH_CRASH_CYCLES=N runs N cycles.
 */
const CYCLES = Number(process.env.KEYWATCH_CRASH_CYCLES ?? 1);
const KEYS_PER_RUN = 4;
const HOOKED: CrashPoint[] = [
  "after-ack",
  "after-claim",
  "after-send",
  "after-mark-sent",
  "after-pump-deliver",
];
type Kill = { kind: "hook"; point: CrashPoint; nth: number } | { kind: "tree"; afterMs: number };

const home = mkdtempSync(join(tmpdir(), "keywatch-crash-"));
const paths = homePaths(home);
const signer = generateSigningKey();
/** Plays GitHub's public-keys endpoint (GITHUB_API_URL): no demo stand-in, no other findings. */
let github: KeysServer | undefined;
const REPO = join(import.meta.dirname, "..", "..");
let child: ChildProcess | undefined;
let output = "";

afterAll(async () => {
  await github?.close();
  if (child?.pid && child.exitCode === null && child.signalCode === null) killTree(child);
  await new Promise((r) => setTimeout(r, 500));
  rmSync(home, { recursive: true, force: true });
});

function killTree(proc: ChildProcess): void {
  try {
    process.kill(-(proc.pid as number), "SIGKILL");
  } catch {
    // already gone
  }
}

async function keysServer(): Promise<KeysServer> {
  github ??= await startKeysServer([published(signer)]);
  return github;
}

/** `keywatch start` from the sources, in its own process group (so the tree can be killed). */
async function startRun(
  crashAt?: string,
): Promise<{ url: string | undefined; proc: ChildProcess; exited: Promise<void> }> {
  const proc = spawn(process.execPath, ["--import", "tsx", join(REPO, "bin", "keywatch.ts"), "start"], {
    cwd: REPO,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: "0",
      KEYWATCH_HOME: home,
      // GitHub here only serves the signing keys: only the deliveries below produce findings.
      GITHUB_API_URL: (await keysServer()).url,
      NODE_NO_WARNINGS: "1",
      ...(crashAt ? { KEYWATCH_CRASH_AT: crashAt } : {}),
    },
  });
  child = proc;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  let url: string | undefined;
  const onData = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
    url ??= /keywatch: console at (http:\/\/127\.0\.0\.1:\d+)\/console/.exec(output)?.[1];
  };
  output = "";
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  const deadline = Date.now() + 120_000;
  while (!url) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      // Killed by its crash point while resuming an earlier run's work, before it served anything.
      if (crashAt && proc.signalCode === "SIGKILL") return { url: undefined, proc, exited };
      throw new Error(`start failed:\n${output}`);
    }
    if (Date.now() > deadline) throw new Error(`start timed out:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, proc, exited };
}

/** Endpoint of the running DynamoDB Local, from the data folder's lock. */
function dynamoEndpoint(): string {
  return (JSON.parse(readFileSync(paths.dynamoDbLock, "utf8")) as { endpoint: string }).endpoint;
}

interface Delivery {
  body: string;
  keys: string[];
}

/** POSTs one signed delivery; true when acknowledged (2xx with every key a true positive). */
async function deliver(url: string, delivery: Delivery): Promise<boolean> {
  try {
    const response = await fetch(`${url}/github/secret-scanning`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "github-public-key-identifier": signer.keyIdentifier,
        "github-public-key-signature": signer.sign(delivery.body),
      },
      body: delivery.body,
      signal: AbortSignal.timeout(30_000),
    });
    if (response.status !== 200) return false;
    const labels = (await response.json()) as Array<{ label: string }>;
    return labels.length === delivery.keys.length && labels.every((l) => l.label === "true_positive");
  } catch {
    return false; // reset by the kill: GitHub would re-send it
  }
}

const issued = new Set<string>();
const acknowledged = new Set<string>();
const kills: Kill[] = [];
let unanswered: Delivery[] = [];

/**
 * One run: re-send what the last run left unanswered, issue fresh keys, deliver them two by two,
 * and wait for this run's kill. Without a kill, wait for every notification to settle, read the
 * incidents' states, and stop with SIGINT (the clean path).
 */
async function run(kill: Kill | undefined): Promise<Map<string, string | undefined> | undefined> {
  const crashAt = kill?.kind === "hook" ? `${kill.point}:${kill.nth}` : undefined;
  const { url, proc, exited } = await startRun(crashAt);
  if (!url) {
    kills.push(kill as Kill);
    return undefined;
  }
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const deliveries = [...unanswered];
  unanswered = [];
  const client = createDocumentClient({ endpoint: dynamoEndpoint() });
  try {
    const keys = createKeyRepository(client, localTableNames().keys);
    const fresh: string[] = [];
    // A hook may fire while resuming an earlier run's work: then this run issues nothing more.
    for (let i = 0; i < KEYS_PER_RUN && alive(); i++) {
      try {
        const { rawKey } = await issueKey("crash-suite", "owner@example.com", { keys, clock: systemClock });
        fresh.push(rawKey);
        issued.add(rawKey);
      } catch (error) {
        if (alive()) throw error;
      }
    }
    for (let i = 0; i < fresh.length; i += 2) {
      const pair = fresh.slice(i, i + 2);
      const body = JSON.stringify(
        pair.map((token, j) => ({
          token,
          type: "smelter_api_key",
          url: `https://github.com/octo/crash/blob/main/k${i + j}.env`,
          source: "content",
        })),
      );
      deliveries.push({ body, keys: pair });
    }
  } finally {
    client.destroy();
  }
  let treeKill: NodeJS.Timeout | undefined;
  for (const delivery of deliveries) {
    const acked = alive() && (await deliver(url, delivery));
    if (!acked) {
      unanswered.push(delivery);
      continue;
    }
    for (const key of delivery.keys) acknowledged.add(key);
    if (kill?.kind === "tree" && !treeKill) treeKill = setTimeout(() => killTree(proc), kill.afterMs);
  }
  if (kill) {
    // The kill lands on its own (a hook, or the timer); a hook that was never reached is a bug.
    const done = await Promise.race([exited.then(() => true), sleep(60_000).then(() => false)]);
    if (!done) {
      killTree(proc);
      throw new Error(`run with ${JSON.stringify(kill)} never crashed:\n${output}`);
    }
    kills.push(kill);
    return undefined;
  }
  try {
    await settled();
    return await incidentStates(dynamoEndpoint());
  } finally {
    proc.kill("SIGINT");
    await exited;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outbox {
  emails: Map<string, number>;
  security: Map<string, number>;
  keyEvents: Map<string, number>;
}

function readOutbox(): Outbox {
  const count = (map: Map<string, number>, id: string) => map.set(id, (map.get(id) ?? 0) + 1);
  const outbox: Outbox = { emails: new Map(), security: new Map(), keyEvents: new Map() };
  if (existsSync(paths.emails)) {
    for (const file of readdirSync(paths.emails)) {
      const id = /-(inc_[0-9a-f]+)\.eml$/.exec(file)?.[1];
      if (id) count(outbox.emails, id);
    }
  }
  if (existsSync(paths.alerts)) {
    for (const line of readFileSync(paths.alerts, "utf8").split("\n").filter(Boolean)) {
      const alert = JSON.parse(line) as { topic: string; message: { incidentId?: string; kind?: string } };
      const id = alert.message.incidentId ?? "";
      if (alert.topic === "key-events") count(outbox.keyEvents, id);
      else if (alert.message.kind !== "report_received") count(outbox.security, id);
    }
  }
  return outbox;
}

async function incidentStates(endpoint: string): Promise<Map<string, string | undefined>> {
  const client = createDocumentClient({ endpoint });
  try {
    const states = new Map<string, string | undefined>();
    for (const key of acknowledged) {
      const id = incidentIdFor(keyHash(key));
      const out = await client.send(
        new GetCommand({
          TableName: localTableNames().incidents,
          Key: { pk: `INCIDENT#${id}`, sk: "INCIDENT" },
        }),
      );
      states.set(id, out.Item?.state as string | undefined);
    }
    return states;
  } finally {
    client.destroy();
  }
}

/** Waits until every acknowledged key's incident is `notified` and its three messages are out. */
async function settled(): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const states = await incidentStates(dynamoEndpoint());
    const outbox = readOutbox();
    const pending = [...states].filter(
      ([id, state]) =>
        state !== "notified" ||
        !outbox.emails.has(id) ||
        !outbox.security.has(id) ||
        !outbox.keyEvents.has(id),
    );
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new Error(`not settled: ${JSON.stringify(pending)}\n${output}`);
    await sleep(500);
  }
}

describe("kill -9 at every point of the notification pipeline, then restart on the same data", () => {
  it(
    `loses no acknowledged key and duplicates nothing beyond the documented case (${CYCLES} cycle(s))`,
    async () => {
      const plan: Kill[] = [];
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        // after-ack:2 kills on the second acknowledgement: one key pair acknowledged, then nothing more.
        for (const point of HOOKED) plan.push({ kind: "hook", point, nth: point === "after-ack" ? 2 : 1 });
        plan.push({ kind: "tree", afterMs: Math.floor(Math.random() * 50) });
      }
      for (const kill of plan) {
        const t0 = Date.now();
        await run(kill);
        process.stderr.write(
          `crash suite: ${JSON.stringify(kill)} done in ${Date.now() - t0} ms; ${acknowledged.size} keys acknowledged\n`,
        );
      }
      // The final run resumes everything, settles, and is stopped with SIGINT.
      const states = (await run(undefined)) as Map<string, string | undefined>;
      const outbox = readOutbox();
      const ids = [...states.keys()];
      const afterSendKills = kills.filter((k) => k.kind === "tree" || k.point === "after-send").length;
      const extra = (map: Map<string, number>) =>
        ids.reduce((sum, id) => sum + Math.max(0, (map.get(id) ?? 0) - 1), 0);

      process.stdout.write(
        `crash suite: ${kills.length} kills (${kills.map((k) => (k.kind === "tree" ? "tree" : k.point)).join(", ")}), ` +
          `${plan.length + 1} starts, ${acknowledged.size} keys acknowledged, ${ids.length} incidents notified, ` +
          `duplicates: ${extra(outbox.emails)} email(s), ${extra(outbox.security)} alert(s), ${extra(outbox.keyEvents)} key event(s)\n`,
      );
      // Every key delivered was acknowledged in the end (re-sent after a kill, as GitHub does).
      expect([unanswered.length, acknowledged.size]).toEqual([0, issued.size]);
      expect(ids.filter((id) => states.get(id) !== "notified")).toEqual([]);
      expect(ids.filter((id) => !outbox.emails.has(id))).toEqual([]);
      expect(ids.filter((id) => !outbox.security.has(id))).toEqual([]);
      expect(ids.filter((id) => !outbox.keyEvents.has(id))).toEqual([]);
      // A duplicate only where a kill fell between the outbox write and markSent (one per such kill).
      expect(extra(outbox.emails) + extra(outbox.security) + extra(outbox.keyEvents)).toBeLessThanOrEqual(
        afterSendKills,
      );
      // No DynamoDB Local left behind on the data folder, and the lock released by the clean stop.
      expect(existsSync(paths.dynamoDbLock)).toBe(false);
    },
    600_000 * CYCLES,
  );
});
