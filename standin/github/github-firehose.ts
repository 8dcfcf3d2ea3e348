import { createHash } from "node:crypto";
import { seededRandom } from "../../bin/local/seeded-random.js";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";
import { createRecordedShapeEventStream, type GitHubEventFixture } from "./github-event-stream.js";

/**
 * GitHub's public feed at its real volume and mix, for the benchmark and tests (not the demo).
 *
 * Modelled on GitHub's documentation and ../shared/github/ (see docs/github-scanners.md):
 * - `GET /events` shows only the newest 300 events (3 pages of 100), `X-Poll-Interval: 60`, ETags;
 *   the feed carries thousands of events a minute (default 4,000; 2,000-8,000 configurable), most of
 *   them PushEvents (default 85 %) whose payload since 7 October 2025 is only
 *   `{repository_id, push_id, ref, head, before}`, so each needs its own diff request.
 * - Event ids are consecutive here, so "events published" is known exactly; on github.com ids also
 *   count events that never appear in the public feed, and the id span is an upper bound.
 * - Diff requests fail at configurable rates, one class each (defaults are assumptions, stated in
 *   docs/benchmarks.md, since GitHub publishes none): 5xx, slow (GitHub cuts requests off at 10 s),
 *   451 DMCA, 403 "Repository access blocked", 406 `too_large`. 5xx and slow are transient (the
 *   push answers on a later attempt); the others are permanent.
 */

export type DiffFailure = "server_error" | "slow" | "legal" | "blocked" | "too_large";

export interface FirehoseOptions {
  seed?: number;
  /** Published events per minute (GitHub: thousands; default 4,000). */
  eventsPerMinute?: number;
  /** Share of PushEvents (default 0.85). */
  pushShare?: number;
  /** Per push, the chance of each diff failure (defaults in DEFAULT_DIFF_FAILURE_RATES). */
  failureRates?: Partial<Record<DiffFailure, number>>;
  /** Transient failures (5xx, slow) answer this many attempts before the diff is served (default 1). */
  transientAttempts?: number;
  /** One push in this many carries a planted key (default 500); 0 plants none. */
  plantEvery?: number;
  prefix?: string;
  /** Owners whose pushes are a share of the feed (watch lists): `watchedPushShare` of all pushes. */
  watchedOwners?: readonly string[];
  watchedPushShare?: number;
  /** Epoch ms of the first event (simulated time). */
  startMs?: number;
  firstId?: bigint;
}

export const DEFAULT_DIFF_FAILURE_RATES: Record<DiffFailure, number> = {
  server_error: 0.01,
  slow: 0.005,
  legal: 0.001,
  blocked: 0.002,
  too_large: 0.003,
};

export interface FirehosePush {
  eventId: string;
  repo: string;
  owner: string;
  before: string;
  head: string;
  publishedAt: number;
  failure?: DiffFailure;
  /** Attempts made so far (the stand-in counts them). */
  attempts: number;
  planted?: { key: string; keyHash: string; path: string };
}

export interface Firehose {
  /** Events published in the next `ms` of simulated time, oldest first. */
  advance(ms: number): GitHubEventFixture[];
  /** The push a diff request names (by head sha), or undefined when it isn't one of ours. */
  pushByHead(head: string): FirehosePush | undefined;
  /** Its diff text (a few files; the planted key on an added line when it carries one). */
  diffOf(push: FirehosePush): string;
  readonly pushes: readonly FirehosePush[];
  readonly planted: readonly FirehosePush[];
  /** Events published so far. */
  published(): number;
  /** Simulated time now (epoch ms). */
  now(): number;
}

function sha(seed: string): string {
  return createHash("sha1").update(seed).digest("hex");
}

export function createFirehose(options: FirehoseOptions = {}): Firehose {
  const random = seededRandom(options.seed ?? 1);
  const perMinute = options.eventsPerMinute ?? 4_000;
  const pushShare = options.pushShare ?? 0.85;
  const rates = { ...DEFAULT_DIFF_FAILURE_RATES, ...options.failureRates };
  const plantEvery = options.plantEvery ?? 500;
  const prefix = options.prefix ?? "smk_";
  const watched = options.watchedOwners ?? [];
  const watchedShare = watched.length > 0 ? (options.watchedPushShare ?? 0.01) : 0;
  let now = options.startMs ?? Date.parse("2026-01-15T10:00:00Z");
  let nextId = options.firstId ?? 50_000_000_000n;
  let published = 0;
  let carry = 0;
  const pushes: FirehosePush[] = [];
  const planted: FirehosePush[] = [];
  const byHead = new Map<string, FirehosePush>();
  // Text, bookkeeping and stub events from GitHub's own webhook examples, re-stamped as published.
  const others = createRecordedShapeEventStream({
    count: 400,
    pushRatio: 0,
    seed: (options.seed ?? 1) + 7,
  }).events;
  let pushCount = 0;

  function failureFor(): DiffFailure | undefined {
    let roll = random();
    for (const [failure, rate] of Object.entries(rates) as [DiffFailure, number][]) {
      if (roll < rate) return failure;
      roll -= rate;
    }
    return undefined;
  }

  function pushEvent(id: string, at: number): GitHubEventFixture {
    pushCount++;
    const fromWatched = random() < watchedShare;
    const owner = fromWatched
      ? (watched[Math.floor(random() * watched.length)] as string)
      : `user${Math.floor(random() * 200_000)}`;
    const repo = `${owner}/repo${Math.floor(random() * 20)}`;
    const newBranch = random() < 0.05;
    const push: FirehosePush = {
      eventId: id,
      repo,
      owner,
      before: newBranch ? "0".repeat(40) : sha(`${id}b`),
      head: sha(`${id}h`),
      publishedAt: at,
      attempts: 0,
    };
    const failure = failureFor();
    if (failure) push.failure = failure;
    // Planted keys go to pushes that can be diffed: recall then measures the scanner, not the faults.
    if (plantEvery > 0 && pushCount % plantEvery === 0 && !push.failure) {
      const key = generateKey(prefix);
      push.planted = { key, keyHash: keyHash(key), path: ".env" };
      planted.push(push);
    }
    pushes.push(push);
    byHead.set(push.head, push);
    return {
      id,
      type: "PushEvent",
      actor: {
        id: 1,
        login: owner,
        display_login: owner,
        gravatar_id: "",
        url: `https://api.github.com/users/${owner}`,
        avatar_url: "https://avatars.githubusercontent.com/u/1?v=4",
      },
      repo: { id: 1000 + (pushCount % 1e6), name: repo, url: `https://api.github.com/repos/${repo}` },
      payload: {
        repository_id: 1000 + (pushCount % 1e6),
        push_id: 20_000_000_000 + pushCount,
        ref: random() < 0.7 ? "refs/heads/main" : `refs/heads/feature-${pushCount % 97}`,
        head: push.head,
        before: push.before,
      },
      public: true,
      created_at: new Date(at).toISOString().replace(/\.\d+Z$/, "Z"),
    } as GitHubEventFixture;
  }

  return {
    advance(ms: number) {
      const exact = (perMinute * ms) / 60_000 + carry;
      const count = Math.floor(exact);
      carry = exact - count;
      const events: GitHubEventFixture[] = [];
      for (let i = 0; i < count; i++) {
        const at = now + Math.floor((i * ms) / Math.max(count, 1));
        const id = String(nextId);
        nextId += 1n;
        if (random() < pushShare) events.push(pushEvent(id, at));
        else {
          const template = others[Math.floor(random() * others.length)] as GitHubEventFixture;
          events.push({ ...template, id, created_at: new Date(at).toISOString().replace(/\.\d+Z$/, "Z") });
        }
      }
      now += ms;
      published += count;
      return events;
    },
    pushByHead: (head) => byHead.get(head),
    diffOf(push) {
      const lines = Array.from({ length: 8 }, (_, i) => `+const layer${i} = compose({ fps: 30 });`);
      if (push.planted) lines.splice(3, 0, `+SMELTER_API_KEY=${push.planted.key}`);
      return (
        `diff --git a/.env b/.env\nindex 1111111..2222222 100644\n--- a/.env\n+++ b/.env\n` +
        `@@ -1,1 +1,${lines.length + 1} @@\n # config\n${lines.join("\n")}\n`
      );
    },
    pushes,
    planted,
    published: () => published,
    now: () => now,
  };
}
