import { afterEach, describe, expect, it } from "vitest";
import { plantKeys } from "../../bin/local/local-services.js";
import { startStreamPump } from "../../bin/local/stream-pump.js";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import { createGitHubClient, type GitHubClient, webUrlFor } from "../../lambdas/adapters/github-client.js";
import { createGitHubEventsApi } from "../../lambdas/adapters/github-events-api.js";
import { createGitHubScanState } from "../../lambdas/adapters/github-scan-state.js";
import { incidentIdFor } from "../../lambdas/domain/incident.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { keyHash } from "../../lambdas/domain/key-format.js";
import { DEFAULT_POLL_SETTINGS, type PollDeps, pollEvents } from "../../lambdas/domain/poll-events.js";
import { makeNotifierHandler, notifierDeps } from "../../lambdas/handlers/notifier.js";
import {
  createRecordedShapeEventStream,
  type FaultKind,
  type GitHubStandIn,
  startGitHubStandIn,
} from "../../standin/github/github-stand-in.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";
import { manualClock } from "../support/github-scanning.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

interface World {
  t: TestTables;
  standIn: GitHubStandIn;
  github: GitHubClient;
  deps: PollDeps;
  clock: ReturnType<typeof manualClock>;
  keys: string[];
  /** Heads of pushes that carry no planted key, oldest first. */
  otherPushHeads: string[];
  pushHead: string;
  /** Incident ids of the owner emails the notifier sent. */
  emails: string[];
  drained: () => Promise<void>;
}

/**
 * Our keys planted in a push diff and an issue comment of a recorded-shape stream, served by the
 * stand-in; the poller records through the real leak-response use case and the notifier emails
 * from the incidents stream (SES mocked), so "emailed" is what is asserted.
 */
async function world(): Promise<World> {
  const t = await createTestTables();
  const keyRepo = createKeyRepository(t.client, t.names.keys);
  const issued = fixedClock("2026-03-01T00:00:00Z");
  const keys: string[] = [];
  for (const project of ["p-push", "p-comment"]) {
    keys.push((await issueKey(project, "owner@example.com", { keys: keyRepo, clock: issued })).rawKey);
  }
  const stream = createRecordedShapeEventStream({ count: 60, plantedKeys: 2, pushRatio: 0.5, seed: 21 });
  plantKeys(stream, keys);
  const pushHead = stream.planted[0]?.commit ?? "";
  const otherPushHeads = stream.events
    .filter((e) => e.type === "PushEvent")
    .map((e) => (e.payload as { head: string }).head)
    .filter((head) => head !== pushHead);
  const standIn = await startGitHubStandIn({ stream, publishAll: true, pollIntervalSeconds: 60 });
  stops.push(() => standIn.stop());
  const github = createGitHubClient({ baseUrl: standIn.url, token: "t", timeoutMs: 400, retryBaseMs: 10 });
  const clock = manualClock();
  const deps: PollDeps = {
    api: createGitHubEventsApi(github),
    state: createGitHubScanState({ client: t.client, tableName: t.names.state, now: clock.now }),
    recordFindings: createFindingRecorder({ client: t.client, tables: t.names }),
    now: clock.now,
    settings: { ...DEFAULT_POLL_SETTINGS, prefixes: ["smk_"], webUrl: webUrlFor(standIn.url) },
  };

  const emails: string[] = [];
  const pump = await startStreamPump({
    endpoint: t.endpoint,
    tableName: t.names.incidents,
    handler: makeNotifierHandler(
      notifierDeps({
        client: t.client,
        tables: t.names,
        email: { send: async (email) => void emails.push(email.incidentId) },
        alerts: { publish: async () => {} },
        sender: "keywatch@example.com",
      }),
    ),
    pollMs: 100,
  });
  stops.push(() => pump.stop());
  return {
    t,
    standIn,
    github,
    deps,
    clock,
    keys,
    otherPushHeads,
    pushHead,
    emails,
    drained: () => pump.drained(60_000),
  };
}

async function poll(w: World) {
  w.github.setDeadline(Date.now() + 30_000);
  return pollEvents(w.deps);
}

/** Our keys whose owner was emailed (one incident per key). */
function emailedKeys(w: World): string[] {
  return w.keys.filter((key) => w.emails.includes(incidentIdFor(keyHash(key))));
}

describe("one bad push never blocks scanning", () => {
  it("marks blocked, DMCA'd, too-large and vanished pushes unreachable, moves on, and still emails later leaks", async () => {
    // Arrange: four pushes that can never be diffed, each a different documented answer.
    const w = await world();
    const unreachable: FaultKind[] = ["blocked", "legal", "too_large", "not_found"];
    unreachable.forEach((kind, i) => {
      w.standIn.injectFault({ path: new RegExp(w.otherPushHeads[i] as string), kind, count: 99 });
    });

    // Act
    const counters = await poll(w);
    await w.drained();

    // Assert
    expect({
      unreachable: counters.unreachable,
      stopped: counters.stopped,
      findings: counters.findings,
      requestsPerBadPush: w.otherPushHeads.slice(0, 4).map((head) => w.standIn.count(new RegExp(head))),
      emailed: emailedKeys(w).map(keyHash),
    }).toEqual({
      unreachable: { blocked: 1, legal: 1, too_large: 1, not_found: 1 },
      stopped: undefined,
      findings: 2,
      // A 406 compare is retried as a list of its commits (that listing meets the 406 again here).
      requestsPerBadPush: [1, 1, 2, 1],
      emailed: w.keys.map(keyHash),
    });
  });

  it("retries a 5xx or timed-out push in later runs with backoff, then gives it up, counted", async () => {
    // Arrange: one push answers 502 every time, another takes longer than the client's timeout.
    const w = await world();
    const [failing, slow] = w.otherPushHeads as [string, string];
    w.standIn.injectFault({ path: new RegExp(failing), kind: "server_error", count: 99 });
    w.standIn.injectFault({ path: new RegExp(slow), kind: "slow", delayMs: 1_500, count: 99 });

    // Act: a run, a run before the backoff has passed, then runs after each backoff.
    const first = await poll(w);
    w.clock.advance(61_000);
    const early = await poll(w);
    w.clock.advance(2 * 60_000);
    const second = await poll(w);
    w.clock.advance(9 * 60_000);
    const third = await poll(w);
    await w.drained();

    // Assert
    expect({
      retrying: [first.pushesRetrying, early.pushesRetrying, second.pushesRetrying, third.pushesRetrying],
      givenUp: third.pushesGivenUp,
      backlogAfter: third.backlog,
      attemptsEach: [w.standIn.count(new RegExp(failing)), w.standIn.count(new RegExp(slow))],
      emailed: emailedKeys(w).length,
    }).toEqual({
      retrying: [2, 0, 2, 0],
      givenUp: 2,
      backlogAfter: 0,
      attemptsEach: [3, 3],
      emailed: 2,
    });
  });

  it("stops diff fetching at a real rate limit but records the run's text findings and keeps the pushes", async () => {
    // Arrange: the first diff request meets a primary limit whose reset is an hour away.
    const w = await world();
    w.standIn.injectFault({ path: /\/(compare|commits)\//, kind: "primary_limit", retryAfter: 3600 });

    // Act
    const limited = await poll(w);
    await w.drained();
    const emailedDuringLimit = emailedKeys(w).map(keyHash);
    w.clock.advance(2 * 3600_000);
    const after = await poll(w);
    await w.drained();

    // Assert
    expect({
      stopped: limited.stopped,
      diffsDuringLimit: limited.pushesScanned,
      keptForLater: limited.backlog,
      emailedDuringLimit,
      diffedAfter: after.pushesScanned,
      emailedAfter: emailedKeys(w).length,
    }).toEqual({
      stopped: "rate_limited",
      diffsDuringLimit: 0,
      keptForLater: limited.pushesSeen,
      emailedDuringLimit: [keyHash(w.keys[1] as string)],
      diffedAfter: limited.pushesSeen,
      emailedAfter: 2,
    });
  });

  it("treats a 403 without rate-limit signs as a blocked push, not a rate limit", async () => {
    const w = await world();
    w.standIn.injectFault({ path: new RegExp(w.otherPushHeads[0] as string), kind: "blocked" });

    const counters = await poll(w);

    expect([counters.stopped, counters.unreachable.blocked, counters.pushesScanned]).toEqual([
      undefined,
      1,
      counters.pushesSeen - 1,
    ]);
  });
});

describe("a rejected token", () => {
  it("ends the run cleanly with stopped=unauthorized instead of throwing", async () => {
    const w = await world();
    w.standIn.injectFault({ path: "/events", kind: "unauthorized", count: 5 });

    const counters = await poll(w);

    expect([counters.stopped, counters.eventsSeen]).toEqual(["unauthorized", 0]);
  });
});
