import { join } from "node:path";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type AlertPublisher, createOutboxAlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createOutboxEmailSender, type EmailSender } from "../../lambdas/adapters/email-sender.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import { createGitHubClient, webUrlFor } from "../../lambdas/adapters/github-client.js";
import { createGitHubCodeSearchApi } from "../../lambdas/adapters/github-code-search-api.js";
import { createGitHubEventsApi } from "../../lambdas/adapters/github-events-api.js";
import { createGitHubScanState } from "../../lambdas/adapters/github-scan-state.js";
import { pollHealth, sweepHealth } from "../../lambdas/adapters/github-scanners.js";
import { CLAIM_LEASE_MS } from "../../lambdas/adapters/notification-ledger.js";
import { NOTIFIER_STREAM_FILTERS } from "../../lambdas/adapters/notifier-stream-filter.js";
import { createCodeSearchPacer } from "../../lambdas/adapters/request-pacer.js";
import { recordScannerHealth } from "../../lambdas/adapters/scanner-health.js";
import type { TableNames } from "../../lambdas/adapters/table-specs.js";
import { buildSweepQueries, sweepCodeSearch } from "../../lambdas/domain/code-search-sweep.js";
import type { RecordFindings } from "../../lambdas/domain/finding.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { keyHash } from "../../lambdas/domain/key-format.js";
import { DEFAULT_POLL_SETTINGS, pollEvents } from "../../lambdas/domain/poll-events.js";
import { reconcileNotifications } from "../../lambdas/domain/reconcile-notifications.js";
import { reconcilerDeps } from "../../lambdas/handlers/notification-reconciler.js";
import { makeNotifierHandler, notifierDeps } from "../../lambdas/handlers/notifier.js";
import type { RecordedShapeEventStream } from "../../standin/github/github-event-stream.js";
import { createOwnerFeeds } from "../../standin/github/github-owner-feeds.js";
import { createRecordedShapeEventStream, startGitHubStandIn } from "../../standin/github/github-stand-in.js";
import { type CrashHook, noCrash } from "./crash-points.js";
import { startStreamPump } from "./stream-pump.js";

/** What the runner's background services share. */
export interface ServiceContext {
  client: DynamoDBDocumentClient;
  tables: TableNames;
  endpoint: string;
  /** KEYWATCH_HOME/outbox. */
  outbox: string;
  prefixes: readonly string[];
  log: (line: string) => void;
  now: () => Date;
  /** Test-only fault injection (KEYWATCH_CRASH_AT); never fires unless set. */
  crash?: CrashHook;
  /** The stream pump's checkpoint (KEYWATCH_HOME/stream-checkpoint.json); unset: replay from the start. */
  streamCheckpoint?: string;
  /**
   * True when this process holds the data folder's lock: no other attempt can be alive, so at
   * start-up every `sending` claim is a crashed run's and is resumed at once (lease 0).
   */
  exclusiveData?: boolean;
}

export interface Service {
  name: string;
  stop(): Promise<void>;
}

export const DEMO_OWNER = "demo-owner@example.com";
export const DEMO_PROJECT = "demo-project";
/** Sender address of local emails (SES identity when deployed). */
export const LOCAL_SENDER = "keywatch@localhost.invalid";

/** RecordFindings that also tells the terminal what each finding meant (redacted keys only). */
export function narratedRecorder(record: RecordFindings, log: (line: string) => void): RecordFindings {
  return async (findings) => {
    const outcomes = await record(findings);
    outcomes.forEach((outcome, i) => {
      const finding = findings[i];
      if (!finding || !outcome.newOccurrence) return;
      const where = finding.location.url ?? finding.location.repo ?? finding.source;
      log(
        outcome.status === "registered"
          ? `leak found: ${finding.redacted} at ${where} (${finding.source}) → incident ${outcome.incidentId}; key quarantined`
          : `unknown key found: ${finding.redacted} at ${where} (${finding.source}) → ${outcome.incidentId}`,
      );
    });
    return outcomes;
  };
}

/** The outbox sender and publisher of the local notifier, saying what they wrote. */
function outboxChannels(ctx: ServiceContext): { email: EmailSender; alerts: AlertPublisher } {
  const crash = ctx.crash ?? noCrash;
  const outboxEmail = createOutboxEmailSender(ctx.outbox, ctx.now);
  const email: EmailSender = {
    async send(message) {
      await outboxEmail.send(message);
      ctx.log(
        `email written: ${join(ctx.outbox, "emails")}/…-${message.incidentId}.eml (to the key's owner)`,
      );
      crash("after-send");
    },
  };
  const outboxAlerts = createOutboxAlertPublisher(ctx.outbox);
  const alerts: AlertPublisher = {
    async publish(alert) {
      await outboxAlerts.publish(alert);
      const kind = String(alert.message.kind ?? alert.attributes.kind ?? "");
      const incident = String(alert.message.incidentId ?? "");
      ctx.log(`alert sent: ${alert.topic} ${kind} ${incident}`.trim());
      crash("after-send");
    },
  };
  return { email, alerts };
}

/** Logs the first of a run of identical errors, then one line a minute with the count (no flood). */
function quietErrors(log: (line: string) => void, prefix: string): (error: unknown) => void {
  let last = "";
  let repeats = 0;
  let lastLoggedAt = 0;
  return (error) => {
    const message = (error as Error).message?.split("\n")[0] ?? String(error);
    const now = Date.now();
    if (message === last && now - lastLoggedAt < 60_000) {
      repeats += 1;
      return;
    }
    log(`${prefix}${message}${repeats > 0 ? ` (and ${repeats} more like it)` : ""}`);
    last = message;
    repeats = 0;
    lastLoggedAt = now;
  };
}

/** Runs the reconciler once and says what it resumed. */
async function reconcileOnce(
  ctx: ServiceContext,
  settings: { claimLeaseMs: number; openGraceMs: number },
): Promise<void> {
  const { email, alerts } = outboxChannels(ctx);
  const deps = reconcilerDeps({
    client: ctx.client,
    tables: ctx.tables,
    email,
    alerts,
    sender: LOCAL_SENDER,
    clock: { now: ctx.now },
    leaseMs: settings.claimLeaseMs,
  });
  const report = await reconcileNotifications(deps, settings);
  if (report.stuckClaims + report.staleOpenIncidents === 0) return;
  ctx.log(
    `notifier: reconciled ${report.stuckClaims} stuck claim(s) and ${report.staleOpenIncidents} open incident(s): ` +
      `${report.resumed} sent, ${report.alreadySent} already sent, ${report.inFlight} in flight, ${report.failed} failed` +
      (report.stranded.length > 0 ? `; still open: ${report.stranded.join(", ")}` : ""),
  );
}

/**
 * The incidents-stream pump + notifier (issue #4), writing to the outbox and saying so, and the
 * reconciler behind it (issue #16): once at start-up, before the pump (a crashed run's claims are
 * resumed at once when this process holds the data folder), then every `reconcileEveryMs`.
 */
export async function startNotifier(
  ctx: ServiceContext,
  options: { reconcileEveryMs?: number; openGraceMs?: number } = {},
): Promise<Service> {
  const crash = ctx.crash ?? noCrash;
  const { email, alerts } = outboxChannels(ctx);
  const deps = notifierDeps({
    client: ctx.client,
    tables: ctx.tables,
    email,
    alerts,
    sender: LOCAL_SENDER,
    clock: { now: ctx.now },
  });
  const ledger = deps.ledger;
  const handler = makeNotifierHandler({
    ...deps,
    ledger: {
      async claim(id, at) {
        const claim = await ledger.claim(id, at);
        if (claim === "claimed" || claim === "taken_over") crash("after-claim");
        return claim;
      },
      async markSent(id, at) {
        await ledger.markSent(id, at);
        crash("after-mark-sent");
      },
      release: (id) => ledger.release(id),
    },
  });
  const openGraceMs = options.openGraceMs ?? 2 * 60_000;
  await reconcileOnce(ctx, { claimLeaseMs: ctx.exclusiveData ? 0 : CLAIM_LEASE_MS, openGraceMs: 0 }).catch(
    (error: unknown) => ctx.log(`notifier: start-up reconciliation failed: ${(error as Error).message}`),
  );
  const pump = await startStreamPump({
    endpoint: ctx.endpoint,
    tableName: ctx.tables.incidents,
    handler,
    pollMs: 250,
    filters: NOTIFIER_STREAM_FILTERS,
    ...(ctx.streamCheckpoint ? { checkpointFile: ctx.streamCheckpoint } : {}),
    afterDeliver: () => crash("after-pump-deliver"),
    onDeadLetter: (record) =>
      ctx.log(
        `notifier: gave up on stream record ${record.eventID} (dead letter; the reconciler resumes it)`,
      ),
    onError: quietErrors(ctx.log, "notifier: stream error: "),
  });
  const reconciler = every(
    options.reconcileEveryMs ?? 30_000,
    () => reconcileOnce(ctx, { claimLeaseMs: CLAIM_LEASE_MS, openGraceMs }),
    quietErrors(ctx.log, "notifier: reconciliation failed: "),
    options.reconcileEveryMs ?? 30_000,
  );
  return {
    name: "notifier",
    async stop() {
      await reconciler.stop();
      await pump.stop();
    },
  };
}

/** A repeating task that never overlaps itself and stops cleanly. */
export function every(
  ms: number,
  task: () => Promise<void>,
  onError: (error: unknown) => void,
  firstAfterMs = 0,
): Service & { name: string } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    running = task()
      .catch(onError)
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, ms);
      });
  };
  timer = setTimeout(tick, firstAfterMs);
  return {
    name: "scheduler",
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/**
 * The GitHub events poller and the code-search sweep (issue #7), in-process on their schedules.
 * Each run gets a deadline like a Lambda invocation does.
 */
export function startGitHubScanners(
  ctx: ServiceContext & { recordFindings: RecordFindings },
  github: { apiUrl: string; token?: string; pollEveryMs?: number; sweepEveryMs?: number },
): Service {
  const client = createGitHubClient({
    baseUrl: github.apiUrl,
    ...(github.token ? { token: github.token } : {}),
    retries: 2,
    retryBaseMs: 200,
  });
  const state = createGitHubScanState({ client: ctx.client, tableName: ctx.tables.state, now: ctx.now });
  const events = createGitHubEventsApi(client);
  const pacer = createCodeSearchPacer();
  let totals = { seen: 0, scanned: 0, findings: 0 };
  const poller = every(
    github.pollEveryMs ?? 2_000,
    async () => {
      client.setDeadline(Date.now() + 25_000);
      const counters = await pollEvents({
        api: events,
        state,
        recordFindings: ctx.recordFindings,
        now: ctx.now,
        settings: { ...DEFAULT_POLL_SETTINGS, prefixes: ctx.prefixes, webUrl: webUrlFor(github.apiUrl) },
      });
      const pollRun = pollHealth(counters, ctx.now());
      if (pollRun) await recordScannerHealth(ctx.client, ctx.tables.state, pollRun);
      if (counters.tooEarly || counters.eventsSeen === 0) return;
      totals = {
        seen: totals.seen + counters.eventsSeen,
        scanned: totals.scanned + counters.eventsScanned,
        findings: totals.findings + counters.findings,
      };
      ctx.log(
        `github events: ${counters.eventsScanned} scanned this poll (${counters.pushesScanned} push diffs, ${counters.apiCalls} API calls) · total ${totals.scanned} scanned, ${totals.findings} findings`,
      );
    },
    (error) => ctx.log(`github events poller: run failed: ${(error as Error).message}`),
  );
  // Code search needs a token on real GitHub; the stand-in answers without one.
  const sweep = every(
    github.sweepEveryMs ?? 60_000,
    async () => {
      const deadline = Date.now() + 50_000;
      client.setDeadline(deadline);
      const counters = await sweepCodeSearch({
        api: createGitHubCodeSearchApi({ client, pacer, deadline: () => deadline }),
        state,
        recordFindings: ctx.recordFindings,
        now: ctx.now,
        settings: {
          prefixes: ctx.prefixes,
          queries: buildSweepQueries(ctx.prefixes),
          maxSearchRequests: 8,
          maxBlobFetches: 20,
          perPage: 100,
        },
      });
      const sweepRun = sweepHealth(counters, ctx.now());
      if (sweepRun) await recordScannerHealth(ctx.client, ctx.tables.state, sweepRun);
      if (counters.newLocations > 0)
        ctx.log(`github code search: ${counters.results} results, ${counters.findings} new findings`);
    },
    (error) => ctx.log(`github code search: run failed: ${(error as Error).message}`),
  );
  return {
    name: "github scanners",
    async stop() {
      await Promise.all([poller.stop(), sweep.stop()]);
    },
  };
}

/** Replaces each planted key of a recorded-shape stream by one of ours, everywhere it occurs. */
export function plantKeys(stream: RecordedShapeEventStream, keys: readonly string[]): void {
  const swaps = stream.planted
    .slice(0, keys.length)
    .map((planted, i) => [planted.key, keys[i] as string] as const);
  const swap = (text: string) => swaps.reduce((acc, [from, to]) => acc.replaceAll(from, to), text);
  const events = JSON.parse(swap(JSON.stringify(stream.events))) as typeof stream.events;
  stream.events.splice(0, stream.events.length, ...events);
  for (const [k, diff] of stream.diffs) stream.diffs.set(k, swap(diff));
  for (const file of stream.codeFiles) file.content = swap(file.content);
  stream.planted.forEach((planted, i) => {
    const key = keys[i];
    if (!key) return;
    planted.key = key;
    planted.keyHash = keyHash(key);
  });
  stream.planted.splice(keys.length);
}

/**
 * The offline demo (no GITHUB_API_URL, no GITHUB_TOKEN): issues demo keys for
 * demo-owner@example.com, starts the GitHub stand-in with those keys planted in a
 * recorded-shape event stream, and replays the stream so the poller finds them.
 */
export async function startDemoStandIn(
  ctx: ServiceContext,
  options: { events?: number; plantedKeys?: number; replayEveryMs?: number; batch?: number } = {},
): Promise<{ url: string; planted: string[]; service: Service }> {
  const keys = createKeyRepository(ctx.client, ctx.tables.keys);
  const count = options.plantedKeys ?? 3;
  const prefix = ctx.prefixes[0] ?? "smk_";
  const issued: string[] = [];
  for (let i = 0; i < count; i++) {
    const { rawKey } = await issueKey(DEMO_PROJECT, DEMO_OWNER, { keys, clock: { now: ctx.now }, prefix });
    issued.push(rawKey);
  }
  // Fresh event ids on every start: the poller remembers ids it has seen (data survives restarts).
  const stream = createRecordedShapeEventStream({
    count: options.events ?? 600,
    plantedKeys: count,
    prefix,
    seed: Date.now() % 100_000,
    firstId: BigInt(Date.now()) * 1_000n,
  });
  plantKeys(stream, issued);
  // Owner feeds for `keywatch watch add`: every owner the stream names is known to GET /users/{owner}.
  const ownerFeeds = createOwnerFeeds({ learnOwners: true });
  const standIn = await startGitHubStandIn({ stream, pollIntervalSeconds: 1, ownerFeeds });
  standIn.startReplay({ intervalMs: options.replayEveryMs ?? 1_000, batch: options.batch ?? 60 });
  ctx.log(
    `github stand-in: ${stream.events.length} recorded-shape events at ${standIn.url}, ${count} demo keys of ${DEMO_OWNER} planted`,
  );
  return {
    url: standIn.url,
    planted: issued,
    service: { name: "github stand-in", stop: () => standIn.stop() },
  };
}

export function localFindingRecorder(ctx: ServiceContext): RecordFindings {
  return narratedRecorder(
    createFindingRecorder({ client: ctx.client, tables: ctx.tables, clock: { now: ctx.now } }),
    ctx.log,
  );
}
