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
 * - A push carries one or more commits (new branches 2-5); a `too_large` push is one whose compare
 *   is over GitHub's diff limits (more than 300 files): its compare diff answers 406, its compare
 *   JSON and each commit's own diff are served (one of its commits now and then is itself over the
 *   limit). A key planted in such a push sits in a commit below the head, so only the commit
 *   fallback finds it.
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
  /** Supplies each planted key (e.g. keys issued to owners, so their emails can be timed); generated otherwise. */
  plantedKey?: () => string | undefined;
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

/** One commit of a push: its sha and how many files its diff touches. */
export interface FirehoseCommit {
  sha: string;
  files: number;
}

/** GitHub refuses a diff over 300 files with 406 `too_large` (see github-stand-in.ts). */
export const DIFF_MAX_FILES = 300;

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
  /** Oldest first; the last one is `head`. */
  commits: FirehoseCommit[];
  planted?: { key: string; keyHash: string; path: string; commit: string };
}

export interface Firehose {
  /** Events published in the next `ms` of simulated time, oldest first. */
  advance(ms: number): GitHubEventFixture[];
  /** The push a diff request names (by head sha), or undefined when it isn't one of ours. */
  pushByHead(head: string): FirehosePush | undefined;
  /** The push one of whose commits this is (any commit, not only the head). */
  pushByCommit(sha: string): FirehosePush | undefined;
  /** Its diff text: every commit's diff (the planted key on an added line when it carries one). */
  diffOf(push: FirehosePush): string;
  /** One commit's own diff. */
  commitDiffOf(push: FirehosePush, sha: string): string;
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
  const byCommit = new Map<string, FirehosePush>();
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

  /**
   * A push's commits: most pushes carry one, some 2-4, a new branch 2-5. A too-large push spreads
   * over 300 files across 3-6 commits of 60-150 files each, and one time in ten one of its commits
   * alone is over the limit.
   */
  function commitsFor(id: string, head: string, newBranch: boolean, tooLarge: boolean): FirehoseCommit[] {
    const count = tooLarge
      ? 3 + Math.floor(random() * 4)
      : newBranch
        ? 2 + Math.floor(random() * 4)
        : random() < 0.8
          ? 1
          : 2 + Math.floor(random() * 3);
    const commits = Array.from({ length: count }, (_, i) => ({
      sha: i === count - 1 ? head : sha(`${id}c${i}`),
      files: tooLarge ? 60 + Math.floor(random() * 91) : 1 + Math.floor(random() * 3),
    }));
    if (tooLarge) {
      const total = commits.reduce((sum, c) => sum + c.files, 0);
      const last = commits.at(-1) as FirehoseCommit;
      if (total <= DIFF_MAX_FILES) last.files += DIFF_MAX_FILES + 1 - total;
      if (random() < 0.1) (commits[0] as FirehoseCommit).files = DIFF_MAX_FILES + 50;
    }
    return commits;
  }

  function commitDiff(push: FirehosePush, commit: FirehoseCommit): string {
    const lines = Array.from({ length: 8 }, (_, i) => `+const layer${i} = compose({ fps: 30 });`);
    if (push.planted?.commit === commit.sha) lines.splice(3, 0, `+SMELTER_API_KEY=${push.planted.key}`);
    const env =
      `diff --git a/.env b/.env\nindex 1111111..2222222 100644\n--- a/.env\n+++ b/.env\n` +
      `@@ -1,1 +1,${lines.length + 1} @@\n # config\n${lines.join("\n")}\n`;
    const others = Array.from(
      { length: commit.files - 1 },
      (_, i) =>
        `diff --git a/gen/${commit.sha.slice(0, 7)}/f${i}.ts b/gen/${commit.sha.slice(0, 7)}/f${i}.ts\n` +
        `--- a/gen/${commit.sha.slice(0, 7)}/f${i}.ts\n+++ b/gen/${commit.sha.slice(0, 7)}/f${i}.ts\n` +
        `@@ -1,1 +1,2 @@\n export {};\n+export const v${i} = ${i};\n`,
    );
    return env + others.join("");
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
      commits: [],
    };
    const failure = failureFor();
    if (failure) push.failure = failure;
    push.commits = commitsFor(id, push.head, newBranch, failure === "too_large");
    // Planted keys go to pushes that can be diffed: recall then measures the scanner, not the faults.
    // A too-large push can be diffed commit by commit: its key sits below the head.
    const plantable = !push.failure || push.failure === "too_large";
    if (plantEvery > 0 && plantable && (pushCount % plantEvery === 0 || push.failure === "too_large")) {
      const key = options.plantedKey?.() ?? generateKey(prefix);
      const at = push.commits.length > 1 ? Math.floor(random() * (push.commits.length - 1)) : 0;
      const commit = push.commits[at]?.sha ?? push.head;
      push.planted = { key, keyHash: keyHash(key), path: ".env", commit };
      planted.push(push);
    }
    pushes.push(push);
    byHead.set(push.head, push);
    for (const c of push.commits) byCommit.set(c.sha, push);
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
        // A new branch is a feature branch here: a push creating `main` is a new repository's first push.
        ref: random() < 0.7 && !newBranch ? "refs/heads/main" : `refs/heads/feature-${pushCount % 97}`,
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
    pushByCommit: (commit) => byCommit.get(commit),
    diffOf: (push) => push.commits.map((c) => commitDiff(push, c)).join(""),
    commitDiffOf(push, commitSha) {
      const commit = push.commits.find((c) => c.sha === commitSha);
      return commit ? commitDiff(push, commit) : "";
    },
    pushes,
    planted,
    published: () => published,
    now: () => now,
  };
}
