import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import type { components } from "@octokit/openapi-types";
import { seededRandom } from "../../bin/local/seeded-random.js";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";

/** An event exactly as `GET /events` serves it (typed against GitHub's OpenAPI description). */
export type GitHubEventFixture = components["schemas"]["event"];

/** A file the stand-in's code search can find. */
export interface CodeFile {
  repo: string;
  path: string;
  content: string;
  /** Commit the file is at (for html_url). */
  commit: string;
}

/** Where a key was planted, so tests and the benchmark can check what the scanners found. */
export interface PlantedKey {
  /** Raw key: generated at run time, never committed. */
  key: string;
  keyHash: string;
  eventId: string;
  eventType: string;
  /** "push", "issue_comment", "release", "issue", "commit_comment", "review_comment". */
  kind: string;
  repo: string;
  commit?: string;
  path?: string;
  line?: number;
  url: string;
}

export interface RecordedShapeEventStream {
  /** Oldest first; ids increase. */
  events: GitHubEventFixture[];
  /** Push diffs by `repo@before...head` (compare) and `repo@head` (commit). */
  diffs: Map<string, string>;
  planted: PlantedKey[];
  /** Files holding planted push keys at their head commit (what code search would index). */
  codeFiles: CodeFile[];
  /** New branches of several commits (oldest first, each one's diff in `diffs` at `repo@sha`) on `base`. */
  branches: { repo: string; base: string; commits: string[] }[];
}

export interface EventStreamOptions {
  count: number;
  /** Share of PushEvents (default 0.05). */
  pushRatio?: number;
  plantedKeys?: number;
  seed?: number;
  prefix?: string;
  /** Id of the first event (default 40000000000). */
  firstId?: bigint;
  /** Share of pushes with a very large diff (beyond a poller's byte cap), default 0.02. */
  hugePushRatio?: number;
}

interface WebhookExample {
  name: string;
  examples: Record<string, unknown>[];
}

const require = createRequire(import.meta.url);
let webhookExamples: Map<string, Record<string, unknown>[]> | undefined;

/** GitHub's own webhook example payloads (`@octokit/webhooks-examples`), by event name. */
function examples(name: string): Record<string, unknown>[] {
  if (!webhookExamples) {
    const all = require("@octokit/webhooks-examples/api.github.com/index.json") as WebhookExample[];
    webhookExamples = new Map(all.map((entry) => [entry.name, entry.examples]));
  }
  const found = webhookExamples.get(name);
  if (!found || found.length === 0) throw new Error(`no webhook example for ${name}`);
  return found;
}

const OWNERS = ["octocat", "acme-labs", "pixel-forge", "stream-kit", "mona", "devrel-demo", "render-farm"];
const REPOS = [
  "Hello-World",
  "video-pipeline",
  "smelter-demo",
  "dotfiles",
  "api-playground",
  "compositor",
  "notes",
];
const FILES = [
  "src/index.ts",
  "config/settings.py",
  ".env.example",
  "app/main.go",
  "README.md",
  "scripts/deploy.sh",
];
const BRANCHES = [
  "refs/heads/main",
  "refs/heads/main",
  "refs/heads/master",
  "refs/heads/feature/overlay",
  "refs/heads/dev-2",
];

function sha(seed: string): string {
  return createHash("sha1").update(seed).digest("hex");
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function codeLine(random: () => number, i: number): string {
  const lines = [
    `const layer${i} = compose({ width: 1920, height: 1080, fps: 30 });`,
    `# step ${i}: render the overlay before the mix`,
    `    if frame.index % ${i + 2} == 0: flush(frame)`,
    `export function scene${i}(input: Input) { return input.tracks.map(normalize); }`,
    `log.info("pipeline ${i} ready", { took: ${Math.floor(random() * 500)} });`,
  ];
  return pick(random, lines);
}

/** A unified diff of `files` new/changed files; `plant` puts a key on an added line of one file. */
function buildDiff(
  random: () => number,
  files: string[],
  linesPerFile: number,
  plant?: { key: string; fileIndex: number; lineIndex: number },
): { diff: string; line?: number; path?: string; contents: Map<string, string> } {
  const parts: string[] = [];
  const contents = new Map<string, string>();
  let plantedLine: number | undefined;
  let plantedPath: string | undefined;
  files.forEach((path, f) => {
    const start = 1 + Math.floor(random() * 40);
    const context = ["// context line kept as is"];
    const added: string[] = [];
    for (let i = 0; i < linesPerFile; i++) {
      if (plant && plant.fileIndex === f && plant.lineIndex === i) {
        added.push(`SMELTER_API_KEY = "${plant.key}"`);
        plantedLine = start + context.length + i;
        plantedPath = path;
      } else added.push(codeLine(random, i));
    }
    parts.push(
      `diff --git a/${path} b/${path}\n` +
        `index ${sha(`${path}a`).slice(0, 7)}..${sha(`${path}b`).slice(0, 7)} 100644\n` +
        `--- a/${path}\n+++ b/${path}\n` +
        `@@ -${start},1 +${start},${1 + added.length} @@\n` +
        context.map((l) => ` ${l}\n`).join("") +
        added.map((l) => `+${l}\n`).join(""),
    );
    contents.set(path, [...context, ...added].join("\n"));
  });
  return {
    diff: parts.join(""),
    contents,
    ...(plantedLine !== undefined ? { line: plantedLine } : {}),
    ...(plantedPath !== undefined ? { path: plantedPath } : {}),
  };
}

/** A key planted in a push: found in the compare, at the pushed head's blob. */
function pushPlant(
  key: string,
  eventId: string,
  repo: string,
  head: string,
  path: string,
  line: number,
): PlantedKey {
  return {
    key,
    keyHash: keyHash(key),
    eventId,
    eventType: "PushEvent",
    kind: "push",
    repo,
    commit: head,
    path,
    line,
    url: `https://github.com/${repo}/blob/${head}/${path}#L${line}`,
  };
}

function strip(payload: Record<string, unknown>): Record<string, unknown> {
  const { repository: _r, sender: _s, organization: _o, installation: _i, enterprise: _e, ...rest } = payload;
  return rest;
}

/**
 * A realistic event stream with the shape of today's `GET /events`: PushEvents with the
 * post-October-2025 payload (no commits; the diff is served by the stand-in's compare and commit
 * endpoints) and the text-carrying, empty and bookkeeping event types built from GitHub's own
 * webhook examples. Keys are planted in push diffs, issue comments and release bodies (and issue
 * bodies, commit and review comments), each with its expected location.
 */
export function createRecordedShapeEventStream(options: EventStreamOptions): RecordedShapeEventStream {
  const random = seededRandom(options.seed ?? 1);
  const prefix = options.prefix ?? "smk_";
  const pushRatio = options.pushRatio ?? 0.05;
  const hugeRatio = options.hugePushRatio ?? 0.02;
  const plantCount = options.plantedKeys ?? 0;
  let nextId = options.firstId ?? 40_000_000_000n;
  const events: GitHubEventFixture[] = [];
  const diffs = new Map<string, string>();
  const planted: PlantedKey[] = [];
  const codeFiles: CodeFile[] = [];
  // Keys go to evenly spaced events of the kinds that carry text, cycling through the kinds.
  // "branch_push": a new branch whose key sits in a commit below its head (the 7th kind, so the
  // streams of tests planting up to 6 keys are as they were).
  const plantKinds = [
    "push",
    "issue_comment",
    "release",
    "issue",
    "commit_comment",
    "review_comment",
    "branch_push",
  ];
  const branches: RecordedShapeEventStream["branches"] = [];
  const plantEvery =
    plantCount > 0 ? Math.max(1, Math.floor(options.count / plantCount)) : Number.POSITIVE_INFINITY;
  const started = Date.parse("2026-01-15T10:00:00Z");

  for (let n = 0; n < options.count; n++) {
    const id = String(nextId);
    nextId += 1n + BigInt(Math.floor(random() * 3));
    const owner = pick(random, OWNERS);
    const repoName = `${owner}/${pick(random, REPOS)}`;
    const repo = {
      id: 1000 + Math.floor(random() * 1e6),
      name: repoName,
      url: `https://api.github.com/repos/${repoName}`,
    };
    const login = pick(random, OWNERS);
    const actor = {
      id: 500 + Math.floor(random() * 1e6),
      login,
      display_login: login,
      gravatar_id: "",
      url: `https://api.github.com/users/${login}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${login.length}?v=4`,
    };
    const created_at = new Date(started + n * 200).toISOString().replace(/\.\d+Z$/, "Z");
    const plantHere = planted.length < plantCount && n % plantEvery === 0;
    const plantKind = plantHere ? (plantKinds[planted.length % plantKinds.length] as string) : undefined;
    const key = plantHere ? generateKey(prefix) : undefined;
    const roll = random();
    let type: string;
    let payload: Record<string, unknown>;

    if (plantKind === "push" || plantKind === "branch_push" || (!plantKind && roll < pushRatio)) {
      type = "PushEvent";
      const branchPlant = plantKind === "branch_push";
      const newBranch = branchPlant || (!plantKind && random() < 0.1);
      const before = newBranch ? "0".repeat(40) : sha(`${id}before`);
      const head = sha(`${id}head`);
      const huge = !plantKind && random() < hugeRatio;
      const fileCount = huge ? 400 : 1 + Math.floor(random() * 4);
      const files = Array.from({ length: fileCount }, (_, i) =>
        i < FILES.length ? (FILES[i] as string) : `gen/file${i}.ts`,
      );
      const built = buildDiff(
        random,
        files,
        huge ? 60 : 5 + Math.floor(random() * 30),
        key && !branchPlant
          ? { key, fileIndex: Math.floor(random() * fileCount), lineIndex: Math.floor(random() * 5) }
          : undefined,
      );
      diffs.set(`${repoName}@${before}...${head}`, built.diff);
      diffs.set(`${repoName}@${head}`, built.diff);
      payload = {
        repository_id: repo.id,
        push_id: 10_000_000_000 + n,
        ref: branchPlant ? "refs/heads/feature/overlay" : key ? "refs/heads/main" : pick(random, BRANCHES),
        head,
        before,
      };
      if (newBranch) {
        // One or two commits below the head, each with a file of its own (the planted key in the oldest).
        const below = Array.from({ length: 1 + Math.floor(random() * 2) }, (_, i) => sha(`${id}commit${i}`));
        const earlier = below.map((_, i) =>
          buildDiff(
            random,
            [`config/branch-${i}.env`],
            5 + Math.floor(random() * 10),
            branchPlant && i === 0 && key ? { key, fileIndex: 0, lineIndex: 2 } : undefined,
          ),
        );
        earlier.forEach((commit, i) => {
          diffs.set(`${repoName}@${below[i]}`, commit.diff);
        });
        // Compared with the default branch: every commit of the branch.
        diffs.set(`${repoName}@main...${head}`, earlier.map((c) => c.diff).join("") + built.diff);
        branches.push({ repo: repoName, base: "main", commits: [...below, head] });
        const oldest = earlier[0];
        if (branchPlant && key && oldest?.path && oldest.line) {
          planted.push(pushPlant(key, id, repoName, head, oldest.path, oldest.line));
        }
      }
      if (key && !branchPlant && built.path && built.line) {
        planted.push(pushPlant(key, id, repoName, head, built.path, built.line));
        codeFiles.push({
          repo: repoName,
          path: built.path,
          content: built.contents.get(built.path) ?? "",
          commit: head,
        });
      }
    } else if (plantKind || roll < 0.45) {
      const kind =
        plantKind ?? pick(random, ["issue_comment", "issue", "release", "commit_comment", "review_comment"]);
      const text = key
        ? `Tried the SDK with\n\n    SMELTER_API_KEY=${key}\n\nand it still fails.`
        : "Thanks, this fixed the flicker on the second layer.";
      const htmlBase = `https://github.com/${repoName}`;
      let url: string;
      let line: number | undefined = key ? 3 : undefined;
      if (kind === "issue_comment" || kind === "issue") {
        const example = structuredClone(
          pick(random, examples(kind === "issue" ? "issues" : "issue_comment")),
        );
        const issue = example.issue as Record<string, unknown>;
        const number = 1 + Math.floor(random() * 500);
        issue.number = number;
        issue.html_url = `${htmlBase}/issues/${number}`;
        if (kind === "issue") {
          type = "IssuesEvent";
          issue.body = text;
          example.action = "opened";
          url = issue.html_url as string;
          payload = { action: "opened", issue };
        } else {
          type = "IssueCommentEvent";
          const comment = example.comment as Record<string, unknown>;
          comment.body = text;
          comment.id = n + 1;
          comment.html_url = `${htmlBase}/issues/${number}#issuecomment-${n + 1}`;
          url = comment.html_url as string;
          payload = { action: "created", issue, comment };
        }
      } else if (kind === "release") {
        type = "ReleaseEvent";
        const example = structuredClone(pick(random, examples("release")));
        const release = example.release as Record<string, unknown>;
        const tag = `v1.${n % 50}.0`;
        release.body = text;
        release.tag_name = tag;
        release.html_url = `${htmlBase}/releases/tag/${tag}`;
        url = release.html_url as string;
        payload = { action: "published", release };
      } else if (kind === "commit_comment") {
        type = "CommitCommentEvent";
        const example = structuredClone(pick(random, examples("commit_comment")));
        const comment = example.comment as Record<string, unknown>;
        comment.body = text;
        comment.html_url = `${htmlBase}/commit/${sha(id)}#commitcomment-${n + 1}`;
        url = comment.html_url as string;
        payload = { action: "created", comment };
      } else {
        type = "PullRequestReviewCommentEvent";
        const example = structuredClone(pick(random, examples("pull_request_review_comment")));
        const comment = example.comment as Record<string, unknown>;
        comment.body = text;
        comment.html_url = `${htmlBase}/pull/7#discussion_r${n + 1}`;
        url = comment.html_url as string;
        payload = { action: "created", comment, pull_request: example.pull_request };
      }
      if (key) {
        planted.push({
          key,
          keyHash: keyHash(key),
          eventId: id,
          eventType: type,
          kind,
          repo: repoName,
          url,
          ...(line ? { line } : {}),
        });
      }
      line = undefined;
    } else if (roll < 0.75) {
      type = "WatchEvent";
      payload = { action: "started" };
    } else if (roll < 0.85) {
      type = "CreateEvent";
      const ref = `feature-${n}`;
      payload = {
        ref,
        ref_type: "branch",
        full_ref: `refs/heads/${ref}`,
        master_branch: "main",
        description: null,
        pusher_type: "user",
      };
    } else if (roll < 0.95) {
      type = "ForkEvent";
      payload = { action: "forked", ...strip(structuredClone(pick(random, examples("fork")))) };
    } else if (roll < 0.99) {
      type = "MemberEvent";
      payload = { action: "added", member: structuredClone(pick(random, examples("member"))).member };
    } else {
      type = "PublicEvent";
      payload = {};
    }
    events.push({ id, type, actor, repo, payload, public: true, created_at } as GitHubEventFixture);
  }
  return { events, diffs, planted, codeFiles, branches };
}
