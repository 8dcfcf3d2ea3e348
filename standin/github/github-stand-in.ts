import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { components } from "@octokit/openapi-types";
import {
  type CodeFile,
  createRecordedShapeEventStream,
  type EventStreamOptions,
  type RecordedShapeEventStream,
} from "./github-event-stream.js";
import type { Firehose } from "./github-firehose.js";
import { codeSearchItemExample, commitExample, compareExample, rateLimitExample } from "./github-fixtures.js";
import type { OwnerFeeds } from "./github-owner-feeds.js";

export type {
  CodeFile,
  GitHubEventFixture,
  PlantedKey,
  RecordedShapeEventStream,
} from "./github-event-stream.js";
export { createRecordedShapeEventStream };

/** What a fault makes the next matching responses be. */
export type FaultKind =
  | "secondary_limit"
  | "too_many_requests"
  | "primary_limit"
  | "server_error"
  | "malformed_json"
  /** 403 "Repository access blocked" (a ToS block): not a rate limit, no rate-limit headers say so. */
  | "blocked"
  /** 451 "Repository access blocked" with `block.reason: dmca` (github/rest-api-description#3314). */
  | "legal"
  /** 406 with `errors[].code: too_large`: the diff is over GitHub's limits. */
  | "too_large"
  /** Answers after `delayMs` (default 10 s) with GitHub's 10-second timeout 502. */
  | "slow"
  | "not_found"
  /** 401 "Bad credentials". */
  | "unauthorized"
  /** 422 from code search: "Validation failed, or the endpoint has been spammed." */
  | "spammed";

export interface Fault {
  /** Path prefix (`/events`, `/search/code`, `/repos/`) or a pattern matched against the path. */
  path: string | RegExp;
  kind: FaultKind;
  /** How many responses (default 1). */
  count?: number;
  /** `retry-after` seconds (secondary limits, 429) or seconds until `x-ratelimit-reset` (primary). */
  retryAfter?: number;
  /** 5xx status (default 502). */
  status?: number;
  /** `slow`: how long before answering (default 10,000 ms, GitHub's cut-off). */
  delayMs?: number;
}

export interface PublicKeyEntry {
  key_identifier: string;
  key: string;
  is_current: boolean;
}

export interface StandInRequest {
  method: string;
  path: string;
  query: string;
  accept: string;
  /** The `X-GitHub-Api-Version` header the client sent, "" when none. */
  apiVersion: string;
  status: number;
  at: number;
}

export interface GitHubStandInOptions {
  port?: number;
  /** Events to serve; published (made visible on /events) with `publish`, or all at once with `publishAll`. */
  stream?: RecordedShapeEventStream;
  /** Builds a stream from these options instead. */
  streamOptions?: EventStreamOptions;
  publishAll?: boolean;
  /** `X-Poll-Interval` seconds (GitHub: 60). */
  pollIntervalSeconds?: number;
  publicKeys?: PublicKeyEntry[];
  /** Characters of context a code-search fragment carries after the match (default 120). */
  fragmentLength?: number;
  /** Serve GitHub's feed at its real volume (standin/github/github-firehose.ts); `advance` publishes it. */
  firehose?: Firehose;
  /** Transient firehose failures answer this many attempts before the diff is served (default 1). */
  transientAttempts?: number;
  /** How long a "slow" firehose diff takes before GitHub's timeout answer (default 10,000 ms). */
  slowMs?: number;
  /**
   * Code search as GitHub's legacy engine (the one `GET /search/code` runs on): quotes ignored,
   * whole tokens matched (GitHub ignores `. , : ; / \ \` ' " = * ! ? # $ & + ^ | ~ < > ( ) { } [ ] @`
   * and whitespace, so `smk_` doesn't match `smk_AbC…`), at most 2 fragments per file, and 422
   * ("the endpoint has been spammed") when more than `burstLimit` searches come within a minute.
   */
  legacyCodeSearch?: { burstLimit?: number };
  /** Per-owner and per-repo feeds and GET /users/{owner} (standin/github/github-owner-feeds.ts, watch lists). */
  ownerFeeds?: OwnerFeeds;
}

/** What GitHub's legacy code search splits on and ignores in queries (its documented list, plus whitespace). */
const LEGACY_SEPARATORS = /[\s.,:;/\\`'"=*!?#$&+^|~<>(){}[\]@]+/;

function legacyTokens(text: string): Set<string> {
  return new Set(text.toLowerCase().split(LEGACY_SEPARATORS).filter(Boolean));
}

export interface GitHubStandIn {
  url: string;
  stream: RecordedShapeEventStream;
  /** Makes the next `count` events of the stream visible (newest on /events). Returns how many. */
  publish(count: number): number;
  /** Publishes an arbitrary (even malformed) event object as the newest. */
  publishRaw(event: unknown): void;
  /** Firehose mode: publishes the next `ms` of simulated feed. Returns how many events. */
  advance(ms: number): number;
  /** Replays the stream: `batch` events every `intervalMs` (the offline demo). */
  startReplay(options: { intervalMs: number; batch: number }): void;
  published(): number;
  addCodeFiles(files: CodeFile[]): void;
  addDiff(repo: string, before: string, head: string, diff: string): void;
  /**
   * A branch pushed on top of `base` (a commit sha or the default branch's name) with these commits,
   * oldest first: compares of `base...<commit>` (or `<commit>...<commit>`) and each commit are served
   * from them, GitHub's way: the diff media type answers 406 `too_large` past 300 files or 20,000
   * lines, the JSON lists the range's commits (paginated; 250 at most without paging).
   */
  addBranch(repo: string, base: string, commits: readonly { sha: string; diff: string }[]): void;
  setPublicKeys(keys: PublicKeyEntry[]): void;
  injectFault(fault: Fault): void;
  readonly requests: StandInRequest[];
  /** Requests whose path starts with `prefix`, or whose path and query string match the pattern. */
  count(prefix: string | RegExp): number;
  stop(): Promise<void>;
}

type SearchItem = components["schemas"]["code-search-result-item"];

const MAX_EVENTS = 300;
const SEARCH_CAP = 1000;

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

function blobSha(content: string): string {
  const bytes = Buffer.from(content, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

function pageParams(url: URL, defaultPerPage = 30): { page: number; perPage: number } {
  const perPage = Math.min(Math.max(Number(url.searchParams.get("per_page")) || defaultPerPage, 1), 100);
  const page = Math.max(Number(url.searchParams.get("page")) || 1, 1);
  return { page, perPage };
}

function linkHeader(base: string, url: URL, page: number, last: number): string {
  const at = (p: number) => {
    const next = new URL(url.toString());
    next.searchParams.set("page", String(p));
    return `<${base}${next.pathname}${next.search}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${at(page - 1)}; rel="prev"`, `${at(1)}; rel="first"`);
  if (page < last) links.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`);
  return links.join(", ");
}

interface ParsedQuery {
  terms: string[];
  repo?: string;
  extension?: string;
}

/** Enough of GitHub's code-search syntax for the sweep: quoted or bare terms, repo:, extension:, in:file. */
function parseQuery(q: string): ParsedQuery {
  const parsed: ParsedQuery = { terms: [] };
  for (const match of q.matchAll(/"([^"]*)"|(\S+)/g)) {
    const quoted = match[1];
    const bare = match[2];
    if (quoted !== undefined) parsed.terms.push(quoted.toLowerCase());
    else if (bare?.startsWith("repo:")) parsed.repo = bare.slice(5).toLowerCase();
    else if (bare?.startsWith("extension:")) parsed.extension = bare.slice(10).toLowerCase();
    else if (bare && !bare.includes(":")) parsed.terms.push(bare.toLowerCase());
  }
  return parsed;
}

/** GitHub's diff limits for the diff media type (the 406 `too_large` answers quoted in docs/github-scanners.md). */
const DIFF_MAX_FILES = 300;
const DIFF_MAX_LINES = 20_000;
/** Without `per_page`/`page`, a compare lists at most 250 commits (GitHub's compare docs). */
const COMPARE_UNPAGED_COMMITS = 250;

/** GitHub's 406 body for a diff over its limits, or undefined when the diff is within them. */
export function tooLargeDiffBody(diff: string): Record<string, unknown> | undefined {
  const files = new Set(diff.match(/^diff --git .*$/gm) ?? []).size;
  const lines = diff.split("\n").length - 1;
  const limit =
    files > DIFF_MAX_FILES
      ? `maximum number of files (${DIFF_MAX_FILES})`
      : lines > DIFF_MAX_LINES
        ? `maximum number of lines (${DIFF_MAX_LINES})`
        : undefined;
  if (!limit) return undefined;
  return {
    message: `Sorry, the diff exceeded the ${limit}. Consider using 'List pull requests files' API or locally cloning the repository instead.`,
    errors: [{ resource: "PullRequest", field: "diff", code: "too_large" }],
    documentation_url: "https://docs.github.com/rest/commits/commits#compare-two-commits",
    status: "406",
  };
}

/** A pushed branch's commits (oldest first) on top of `base`. */
interface BranchRecord {
  repo: string;
  base: string;
  commits: { sha: string; diff: string }[];
}

/** The commits of `base...head` within a branch: head's ancestors on it, above `base`. */
function rangeOf<T extends { sha: string }>(
  commits: readonly T[],
  branchBase: string,
  base: string,
  head: string,
) {
  const end = commits.findIndex((c) => c.sha === head);
  if (end < 0) return undefined;
  const below = commits.findIndex((c) => c.sha === base);
  if (below < 0 && base !== branchBase) return undefined;
  if (below >= end) return [];
  return commits.slice(below + 1, end + 1);
}

/**
 * A local stand-in for the parts of GitHub's REST API keywatch uses, with the exact response
 * shapes (GitHub's examples, typed against @octokit/openapi-types) and the headers clients rely
 * on: pagination `Link`, `ETag`/`If-None-Match` → 304, `X-Poll-Interval`, `x-ratelimit-*`.
 * Faults can be injected per path and every request is logged, so tests can count calls.
 */
export async function startGitHubStandIn(options: GitHubStandInOptions = {}): Promise<GitHubStandIn> {
  const stream = options.stream ?? createRecordedShapeEventStream(options.streamOptions ?? { count: 0 });
  const pending = [...stream.events];
  /** Serialized once: pages are built from these strings. */
  const visible: { id: string; json: string; repo: string }[] = [];
  const codeFiles: (CodeFile & { sha: string })[] = [];
  const diffs = stream.diffs;
  const branches: BranchRecord[] = [];
  let publicKeys = options.publicKeys ?? [];
  const faultList: (Fault & { left: number })[] = [];
  const requests: StandInRequest[] = [];
  const pollInterval = options.pollIntervalSeconds ?? 60;
  const fragmentLength = options.fragmentLength ?? 120;
  const rate = {
    core: { limit: 5000, used: 0, reset: Math.floor(Date.now() / 1000) + 3600 },
    search: { limit: 30, used: 0, reset: Math.floor(Date.now() / 1000) + 60 },
  };
  let replay: NodeJS.Timeout | undefined;
  /** Legacy code search: when recent searches came, for its 422 under bursts. */
  const searchTimes: number[] = [];
  let base = "";

  function addVisible(event: unknown): void {
    options.ownerFeeds?.record(event);
    const e = event as { id?: unknown; repo?: { name?: unknown } };
    visible.push({
      id: String(e.id ?? ""),
      json: JSON.stringify(event),
      repo: typeof e.repo?.name === "string" ? e.repo.name.toLowerCase() : "",
    });
    if (visible.length > 5 * MAX_EVENTS) visible.splice(0, visible.length - MAX_EVENTS);
  }

  function publish(count: number): number {
    const batch = pending.splice(0, Math.max(0, count));
    for (const event of batch) addVisible(event);
    return batch.length;
  }
  if (options.publishAll) publish(pending.length);
  for (const file of stream.codeFiles) codeFiles.push({ ...file, sha: blobSha(file.content) });
  // The stream's multi-commit new branches, served commit by commit (diffs as planted by then).
  for (const branch of stream.branches ?? []) {
    branches.push({
      repo: branch.repo,
      base: branch.base,
      commits: branch.commits.map((sha) => ({ sha, diff: diffs.get(`${branch.repo}@${sha}`) ?? "" })),
    });
  }

  function rateHeaders(resource: "core" | "search", count: boolean): Record<string, string> {
    const r = rate[resource];
    if (count) r.used++;
    return {
      "x-ratelimit-limit": String(r.limit),
      "x-ratelimit-remaining": String(Math.max(r.limit - r.used, 0)),
      "x-ratelimit-used": String(r.used),
      "x-ratelimit-reset": String(r.reset),
      "x-ratelimit-resource": resource,
    };
  }

  function takeFault(path: string): (Fault & { left: number }) | undefined {
    const fault = faultList.find(
      (f) => f.left > 0 && (typeof f.path === "string" ? path.startsWith(f.path) : f.path.test(path)),
    );
    if (fault) fault.left--;
    return fault;
  }

  async function serveFault(res: ServerResponse, fault: Fault, resource: "core" | "search") {
    const headers = rateHeaders(resource, false);
    const retryAfter = String(fault.retryAfter ?? 1);
    const blocked = (reason: string) => ({
      message: "Repository access blocked",
      block: {
        reason,
        created_at: "2025-11-03T09:12:44Z",
        html_url:
          reason === "dmca"
            ? "https://github.com/github/dmca/blob/master/2025/11/2025-11-01-example.md"
            : null,
      },
    });
    switch (fault.kind) {
      case "blocked":
        return json(res, 403, blocked("tos"), rateHeaders(resource, true));
      case "legal":
        return json(res, 451, blocked("dmca"), rateHeaders(resource, true));
      case "too_large":
        return json(
          res,
          406,
          {
            message:
              "Sorry, the diff exceeded the maximum number of files (300). Consider using 'List pull requests files' API or locally cloning the repository instead.",
            errors: [{ resource: "PullRequest", field: "diff", code: "too_large" }],
            documentation_url: "https://docs.github.com/rest/commits/commits#compare-two-commits",
            status: "406",
          },
          rateHeaders(resource, true),
        );
      case "slow":
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs ?? 10_000));
        if (res.destroyed) return;
        return json(
          res,
          502,
          {
            message:
              "We couldn't respond to your request in time. Sorry about that. Please try resubmitting your request and contact us if the problem persists.",
          },
          rateHeaders(resource, true),
        );
      case "not_found":
        return json(res, 404, { message: "Not Found", status: "404" }, rateHeaders(resource, true));
      case "unauthorized":
        return json(res, 401, {
          message: "Bad credentials",
          documentation_url: "https://docs.github.com/rest",
          status: "401",
        });
      case "spammed":
        // GitHub documents only "Validation failed, or the endpoint has been spammed" (validation-error-simple).
        return json(
          res,
          422,
          {
            message: "Validation Failed",
            documentation_url: "https://docs.github.com/rest/search/search#search-code",
            status: "422",
          },
          rateHeaders(resource, true),
        );
      case "secondary_limit":
        return json(
          res,
          403,
          {
            message:
              "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            documentation_url:
              "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            status: "403",
          },
          { ...headers, "retry-after": retryAfter },
        );
      case "too_many_requests":
        return json(
          res,
          429,
          {
            message:
              "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            status: "429",
          },
          { ...headers, "retry-after": retryAfter },
        );
      case "primary_limit":
        return json(
          res,
          403,
          {
            message: "API rate limit exceeded for user ID 1.",
            documentation_url:
              "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
            status: "403",
          },
          {
            ...headers,
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + (fault.retryAfter ?? 60)),
          },
        );
      case "server_error":
        return json(res, fault.status ?? 502, { message: "Server Error" }, headers);
      case "malformed_json":
        return json(res, 200, '[{"id": "1", "type": "PushEvent", "payload": {', headers);
    }
  }

  function serveEvents(req: IncomingMessage, res: ServerResponse, url: URL, repo?: string): void {
    const { page, perPage } = pageParams(url);
    const window = (repo ? visible.filter((e) => e.repo === repo) : visible).slice(-MAX_EVENTS).reverse();
    const last = Math.max(Math.ceil(window.length / perPage), 1);
    const etag = `W/"${createHash("sha1")
      .update(`${page}:${perPage}:${window.map((e) => e.id).join(",")}`)
      .digest("hex")}"`;
    const common = {
      etag,
      "x-poll-interval": String(pollInterval),
      "last-modified": new Date().toUTCString(),
    };
    if (req.headers["if-none-match"] === etag) {
      // Conditional hits are free on GitHub: no rate-limit use.
      res.writeHead(304, { ...common, ...rateHeaders("core", false) });
      res.end();
      return;
    }
    const slice = window.slice((page - 1) * perPage, page * perPage);
    const link = linkHeader(base, url, page, last);
    res.writeHead(200, {
      "content-type": "application/json; charset=utf-8",
      ...common,
      ...rateHeaders("core", true),
      ...(link ? { link } : {}),
    });
    res.end(`[${slice.map((e) => e.json).join(",")}]`);
  }

  function serveDiffOrJson(
    req: IncomingMessage,
    res: ServerResponse,
    diff: string | undefined,
    build: () => unknown,
  ) {
    if (diff === undefined)
      return json(res, 404, { message: "Not Found", status: "404" }, rateHeaders("core", true));
    const accept = req.headers.accept ?? "";
    if (accept.includes("application/vnd.github.diff") || accept.includes("application/vnd.github.v3.diff")) {
      res.writeHead(200, {
        "content-type": "application/vnd.github.diff; charset=utf-8",
        ...rateHeaders("core", true),
      });
      res.end(diff);
      return;
    }
    json(res, 200, build(), rateHeaders("core", true));
  }

  function filesOf(diff: string, repo: string, head: string): components["schemas"]["diff-entry"][] {
    return diff
      .split(/^(?=diff --git )/m)
      .filter(Boolean)
      .map((section) => {
        const filename = /^\+\+\+ b\/(.*)$/m.exec(section)?.[1] ?? "unknown";
        const patch = section.slice(section.indexOf("@@"));
        const additions = (patch.match(/^\+/gm) ?? []).length;
        const deletions = (patch.match(/^-/gm) ?? []).length;
        return {
          sha: blobSha(section),
          filename,
          status: "modified" as const,
          additions,
          deletions,
          changes: additions + deletions,
          blob_url: `https://github.com/${repo}/blob/${head}/${filename}`,
          raw_url: `https://github.com/${repo}/raw/${head}/${filename}`,
          contents_url: `https://api.github.com/repos/${repo}/contents/${filename}?ref=${head}`,
          patch,
        };
      });
  }

  function fragmentAround(content: string, at: number): { fragment: string; start: number } {
    const lineStart = content.lastIndexOf("\n", at - 1) + 1;
    const start = Math.max(lineStart, at - 40);
    const lineEnd = content.indexOf("\n", at);
    const end = Math.min(lineEnd === -1 ? content.length : lineEnd, at + fragmentLength);
    return { fragment: content.slice(start, end), start };
  }

  function serveSearch(req: IncomingMessage, res: ServerResponse, url: URL) {
    const q = url.searchParams.get("q") ?? "";
    const { page, perPage } = pageParams(url);
    const headers = rateHeaders("search", true);
    if (!q.trim())
      return json(
        res,
        422,
        {
          message: "Validation Failed",
          errors: [{ resource: "Search", field: "q", code: "missing" }],
          status: "422",
        },
        headers,
      );
    if ((page - 1) * perPage >= SEARCH_CAP) {
      return json(
        res,
        422,
        {
          message: "Cannot access beyond the first 1000 results, or the search has more than 1000 results.",
          status: "422",
        },
        headers,
      );
    }
    if (options.legacyCodeSearch) {
      const now = Date.now();
      while (searchTimes.length > 0 && (searchTimes[0] as number) <= now - 60_000) searchTimes.shift();
      searchTimes.push(now);
      if (searchTimes.length > (options.legacyCodeSearch.burstLimit ?? 10)) {
        return json(res, 422, { message: "Validation Failed", status: "422" }, headers);
      }
      return serveLegacySearch(req, res, url, q, page, perPage, headers);
    }
    const query = parseQuery(q);
    const matches = codeFiles.filter((file) => {
      if (query.repo && file.repo.toLowerCase() !== query.repo) return false;
      if (query.extension && !file.path.toLowerCase().endsWith(`.${query.extension}`)) return false;
      const lower = file.content.toLowerCase();
      return query.terms.every((term) => lower.includes(term));
    });
    const withText = (req.headers.accept ?? "").includes("text-match");
    const reachable = matches.slice(0, SEARCH_CAP);
    const items = reachable.slice((page - 1) * perPage, page * perPage).map((file): SearchItem => {
      const [owner = "", name = ""] = file.repo.split("/");
      const item: SearchItem = {
        ...structuredClone(codeSearchItemExample),
        name: file.path.split("/").at(-1) ?? file.path,
        path: file.path,
        sha: file.sha,
        url: `${base}/repositories/1/contents/${file.path}?ref=${file.commit}`,
        git_url: `${base}/repos/${file.repo}/git/blobs/${file.sha}`,
        html_url: `https://github.com/${file.repo}/blob/${file.commit}/${file.path}`,
        repository: {
          ...structuredClone(codeSearchItemExample.repository),
          name,
          full_name: file.repo,
          owner: { ...structuredClone(codeSearchItemExample.repository.owner), login: owner },
          html_url: `https://github.com/${file.repo}`,
        },
      };
      if (withText) {
        const term = query.terms[0] ?? "";
        const at = file.content.toLowerCase().indexOf(term);
        const { fragment, start } = fragmentAround(file.content, Math.max(at, 0));
        item.text_matches = [
          {
            object_url: item.url,
            object_type: "FileContent",
            property: "content",
            fragment,
            matches: [
              {
                text: file.content.slice(at, at + term.length),
                indices: [at - start, at - start + term.length],
              },
            ],
          },
        ];
      }
      return item;
    });
    const last = Math.max(Math.ceil(reachable.length / perPage), 1);
    const link = linkHeader(base, url, page, last);
    json(
      res,
      200,
      { total_count: matches.length, incomplete_results: false, items },
      { ...headers, ...(link ? { link } : {}) },
    );
  }

  function searchItem(file: CodeFile & { sha: string }): SearchItem {
    const [owner = "", name = ""] = file.repo.split("/");
    return {
      ...structuredClone(codeSearchItemExample),
      name: file.path.split("/").at(-1) ?? file.path,
      path: file.path,
      sha: file.sha,
      url: `${base}/repositories/1/contents/${file.path}?ref=${file.commit}`,
      git_url: `${base}/repos/${file.repo}/git/blobs/${file.sha}`,
      html_url: `https://github.com/${file.repo}/blob/${file.commit}/${file.path}`,
      repository: {
        ...structuredClone(codeSearchItemExample.repository),
        name,
        full_name: file.repo,
        owner: { ...structuredClone(codeSearchItemExample.repository.owner), login: owner },
        html_url: `https://github.com/${file.repo}`,
      },
    };
  }

  function serveLegacySearch(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    q: string,
    page: number,
    perPage: number,
    headers: Record<string, string>,
  ) {
    const terms: string[] = [];
    let repo: string | undefined;
    let extension: string | undefined;
    let filename: string | undefined;
    for (const word of q.replaceAll('"', " ").split(/\s+/).filter(Boolean)) {
      const [qualifier, value = ""] = word.split(/:(.*)/s);
      if (qualifier === "repo") repo = value.toLowerCase();
      else if (qualifier === "extension") extension = value.toLowerCase();
      else if (qualifier === "filename") filename = value.toLowerCase();
      else if (qualifier === "in") continue;
      else terms.push(...legacyTokens(word));
    }
    const matches = codeFiles.filter((file) => {
      const base = (file.path.split("/").at(-1) ?? "").toLowerCase();
      if (repo && file.repo.toLowerCase() !== repo) return false;
      if (extension && !base.endsWith(`.${extension}`)) return false;
      if (filename && base !== filename && !base.startsWith(filename)) return false;
      const tokens = legacyTokens(file.content);
      return terms.every((term) => tokens.has(term));
    });
    const withText = (req.headers.accept ?? "").includes("text-match");
    const reachable = matches.slice(0, SEARCH_CAP);
    const items = reachable.slice((page - 1) * perPage, page * perPage).map((file) => {
      const item = searchItem(file);
      if (withText) {
        // At most 2 fragments per file: further matches in the file are not shown.
        const lower = file.content.toLowerCase();
        const hits = terms.flatMap((term) => {
          const at = lower.search(
            new RegExp(`(?<![a-z0-9_])${term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![a-z0-9_])`),
          );
          return at >= 0 ? [{ at, term }] : [];
        });
        item.text_matches = hits.slice(0, 2).map(({ at, term }) => {
          const { fragment, start } = fragmentAround(file.content, at);
          return {
            object_url: item.url,
            object_type: "FileContent",
            property: "content",
            fragment,
            matches: [
              {
                text: file.content.slice(at, at + term.length),
                indices: [at - start, at - start + term.length],
              },
            ],
          };
        });
      }
      return item;
    });
    const last = Math.max(Math.ceil(reachable.length / perPage), 1);
    const link = linkHeader(base, url, page, last);
    json(
      res,
      200,
      { total_count: matches.length, incomplete_results: false, items },
      { ...headers, ...(link ? { link } : {}) },
    );
  }

  /** A compare's or commit's diff: 406 `too_large` past GitHub's limits, else the text. */
  function serveDiff(res: ServerResponse, diff: string): void {
    const tooLarge = tooLargeDiffBody(diff);
    if (tooLarge) {
      json(res, 406, tooLarge, rateHeaders("core", true));
      return;
    }
    res.writeHead(200, {
      "content-type": "application/vnd.github.diff; charset=utf-8",
      ...rateHeaders("core", true),
    });
    res.end(diff);
  }

  function wantsDiff(req: IncomingMessage): boolean {
    const accept = req.headers.accept ?? "";
    return (
      accept.includes("application/vnd.github.diff") || accept.includes("application/vnd.github.v3.diff")
    );
  }

  /** A commit as the compare JSON lists it (GitHub's example, re-stamped). */
  function commitEntry(repo: string, sha: string, parent: string) {
    return {
      ...structuredClone(commitExample),
      url: `${base}/repos/${repo}/commits/${sha}`,
      sha,
      html_url: `https://github.com/${repo}/commit/${sha}`,
      comments_url: `${base}/repos/${repo}/commits/${sha}/comments`,
      parents: [{ url: `${base}/repos/${repo}/commits/${parent}`, sha: parent }],
      stats: undefined,
      files: undefined,
    };
  }

  /**
   * Compare JSON for a range of commits: `total_commits`, the commits in chronological order,
   * paginated with `per_page`/`page` (Link header) or, without them, at most the newest 250;
   * changed files (at most 300) on the first page only, as GitHub's compare docs describe.
   */
  function serveCompareJson(
    res: ServerResponse,
    url: URL,
    repo: string,
    basehead: string,
    range: readonly { sha: string }[],
    parentOfFirst: string,
    diff: string,
  ): void {
    const paged = url.searchParams.has("per_page") || url.searchParams.has("page");
    const { page, perPage } = pageParams(url);
    const shown = paged
      ? range.slice((page - 1) * perPage, page * perPage)
      : range.slice(-COMPARE_UNPAGED_COMMITS);
    const offset = paged ? (page - 1) * perPage : range.length - shown.length;
    // A branch name's commit (the default branch's head) stands in as a sha derived from its name.
    const below = /^[0-9a-f]{40}$/.test(parentOfFirst)
      ? parentOfFirst
      : createHash("sha1").update(`${repo}@${parentOfFirst}`).digest("hex");
    const commits = shown.map((c, i) =>
      commitEntry(repo, c.sha, i + offset === 0 ? below : (range[i + offset - 1]?.sha ?? below)),
    );
    const head = range.at(-1)?.sha ?? below;
    const body = {
      ...structuredClone(compareExample),
      url: `${base}/repos/${repo}/compare/${basehead}`,
      html_url: `https://github.com/${repo}/compare/${basehead}`,
      ahead_by: range.length,
      behind_by: 0,
      status: range.length > 0 ? "ahead" : "identical",
      total_commits: range.length,
      commits,
      files: !paged || page === 1 ? filesOf(diff, repo, head).slice(0, DIFF_MAX_FILES) : [],
    };
    const last = Math.max(Math.ceil(range.length / perPage), 1);
    const link = paged ? linkHeader(base, url, page, last) : "";
    json(res, 200, body, { ...rateHeaders("core", true), ...(link ? { link } : {}) });
  }

  /**
   * List commits (`GET /repos/{o}/{r}/commits?sha=`, docs.github.com/rest/commits/commits#list-commits):
   * the history from `sha` back, newest first, `per_page` at most 100 (default 30). Histories here are
   * a branch added with addBranch or a firehose push's commits (below its oldest, nothing: a new
   * repository's root), or a lone commit with a diff of its own.
   */
  function serveCommitList(res: ServerResponse, url: URL, repo: string): void {
    const from = url.searchParams.get("sha") ?? "";
    const { page, perPage } = pageParams(url);
    const history =
      branches.find((b) => b.repo === repo && b.commits.some((c) => c.sha === from))?.commits ??
      options.firehose?.pushByCommit(from)?.commits ??
      (diffs.has(`${repo}@${from}`) ? [{ sha: from }] : undefined);
    if (!history) {
      json(res, 404, { message: "Not Found", status: "404" }, rateHeaders("core", true));
      return;
    }
    const upTo = history.slice(0, history.findIndex((c) => c.sha === from) + 1);
    const newestFirst = upTo
      .map((c, i) => commitEntry(repo, c.sha, upTo[i - 1]?.sha ?? "0".repeat(40)))
      .reverse()
      .map((entry, i, all) => (i === all.length - 1 ? { ...entry, parents: [] } : entry));
    const shown = newestFirst.slice((page - 1) * perPage, page * perPage);
    const last = Math.max(Math.ceil(newestFirst.length / perPage), 1);
    const link = linkHeader(base, url, page, last);
    json(res, 200, shown, { ...rateHeaders("core", true), ...(link ? { link } : {}) });
  }

  /** A request for a branch pushed with addBranch: a compare within it or one of its commits. */
  function serveBranch(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    repo: string,
    request: { base?: string; head: string },
  ): boolean {
    for (const branch of branches) {
      if (branch.repo !== repo) continue;
      if (request.base === undefined) {
        const commit = branch.commits.find((c) => c.sha === request.head);
        if (!commit) continue;
        if (wantsDiff(req)) serveDiff(res, commit.diff);
        else json(res, 200, commitJson(repo, commit.sha, commit.diff), rateHeaders("core", true));
        return true;
      }
      const range = rangeOf(branch.commits, branch.base, request.base, request.head);
      if (!range) continue;
      const diff = range.map((c) => c.diff).join("");
      if (wantsDiff(req)) serveDiff(res, diff);
      else serveCompareJson(res, url, repo, `${request.base}...${request.head}`, range, request.base, diff);
      return true;
    }
    return false;
  }

  function commitJson(repo: string, sha: string, diff: string) {
    return {
      ...structuredClone(commitExample),
      sha,
      html_url: `https://github.com/${repo}/commit/${sha}`,
      files: filesOf(diff, repo, sha),
    };
  }

  /**
   * A firehose push's request (a compare or one of its commits): its injected failure (transient
   * ones only at first; `too_large` is GitHub's own answer past its limits), else served.
   */
  async function serveFirehose(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    repo: string,
    request: { base?: string; head: string },
  ): Promise<boolean> {
    const firehose = options.firehose;
    const push = firehose?.pushByCommit(request.head);
    if (!firehose || !push) return false;
    push.attempts++;
    const transient = push.failure === "server_error" || push.failure === "slow";
    if (push.failure && push.failure !== "too_large") {
      if (!transient || push.attempts <= (options.transientAttempts ?? 1)) {
        const kind = push.failure === "slow" ? "slow" : push.failure;
        await serveFault(res, { path: "", kind, delayMs: options.slowMs ?? 10_000 }, "core");
        return true;
      }
    }
    if (request.base === undefined) {
      const diff = firehose.commitDiffOf(push, request.head);
      if (wantsDiff(req)) serveDiff(res, diff);
      else json(res, 200, commitJson(repo, request.head, diff), rateHeaders("core", true));
      return true;
    }
    const range =
      rangeOf(push.commits, push.before, request.base, request.head) ??
      // A new branch is compared with the default branch's name.
      rangeOf(push.commits, request.base, request.base, request.head) ??
      [];
    const diff = range.map((c) => firehose.commitDiffOf(push, c.sha)).join("");
    if (wantsDiff(req)) serveDiff(res, diff);
    else serveCompareJson(res, url, repo, `${request.base}...${request.head}`, range, request.base, diff);
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const path = url.pathname;
    const search = path.startsWith("/search/");
    // A fault keyed on a commit matches wherever the request names it (List commits' `?sha=` too).
    const fault = takeFault(`${path}${url.search}`);
    if (fault) return serveFault(res, fault, search ? "search" : "core");
    if (req.method !== "GET") return json(res, 404, { message: "Not Found" });
    if (path === "/events") return serveEvents(req, res, url);
    const feedContext = {
      base,
      rateHeaders: (count: boolean) => rateHeaders("core", count),
      pollIntervalSeconds: pollInterval,
    };
    if (options.ownerFeeds?.serve(req, res, url, feedContext)) return;
    let m = /^\/repos\/([^/]+)\/([^/]+)\/events$/.exec(path);
    if (m) return serveEvents(req, res, url, `${m[1]}/${m[2]}`.toLowerCase());
    m = /^\/repos\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      // Get a repository: what the poller reads it for is `default_branch` (every repo here has main).
      const repo = `${m[1]}/${m[2]}`;
      return json(
        res,
        200,
        { id: 1, name: m[2], full_name: repo, private: false, default_branch: "main" },
        rateHeaders("core", true),
      );
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/compare\/([0-9a-f]{40}|[\w.-]+)\.\.\.([0-9a-f]{40})$/.exec(path);
    if (m) {
      const repo = `${m[1]}/${m[2]}`;
      const [before, head] = [m[3] as string, m[4] as string];
      if (await serveFirehose(req, res, url, repo, { base: before, head })) return;
      if (serveBranch(req, res, url, repo, { base: before, head })) return;
      // A branch compared with the default branch: its own entry when one was added, else the head's diff.
      const diff =
        diffs.get(`${repo}@${before}...${head}`) ??
        (/^[0-9a-f]{40}$/.test(before) ? undefined : diffs.get(`${repo}@${head}`));
      return serveDiffOrJson(req, res, diff, () => ({
        ...structuredClone(compareExample),
        url: `${base}/repos/${repo}/compare/${before}...${head}`,
        html_url: `https://github.com/${repo}/compare/${before}...${head}`,
        files: filesOf(diff ?? "", repo, head),
      }));
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/commits$/.exec(path);
    if (m) return serveCommitList(res, url, `${m[1]}/${m[2]}`);
    m = /^\/repos\/([^/]+)\/([^/]+)\/commits\/([0-9a-f]{40})$/.exec(path);
    if (m) {
      const repo = `${m[1]}/${m[2]}`;
      const head = m[3] as string;
      if (await serveFirehose(req, res, url, repo, { head })) return;
      if (serveBranch(req, res, url, repo, { head })) return;
      const diff = diffs.get(`${repo}@${head}`);
      return serveDiffOrJson(req, res, diff, () => ({
        ...structuredClone(commitExample),
        sha: head,
        html_url: `https://github.com/${repo}/commit/${head}`,
        files: filesOf(diff ?? "", repo, head),
      }));
    }
    m = /^\/repos\/([^/]+)\/([^/]+)\/git\/blobs\/([0-9a-f]{40})$/.exec(path);
    if (m) {
      const file = codeFiles.find((f) => f.repo === `${m?.[1]}/${m?.[2]}` && f.sha === m?.[3]);
      if (!file) return json(res, 404, { message: "Not Found", status: "404" }, rateHeaders("core", true));
      return json(
        res,
        200,
        {
          sha: file.sha,
          node_id: `B_${file.sha.slice(0, 12)}`,
          size: Buffer.byteLength(file.content),
          url: `${base}${path}`,
          content: Buffer.from(file.content, "utf8").toString("base64"),
          encoding: "base64",
        },
        rateHeaders("core", true),
      );
    }
    if (path === "/search/code") return serveSearch(req, res, url);
    if (path === "/rate_limit") {
      const overview = structuredClone(rateLimitExample);
      const core = {
        limit: rate.core.limit,
        used: rate.core.used,
        remaining: rate.core.limit - rate.core.used,
        reset: rate.core.reset,
      };
      const searchRate = {
        limit: rate.search.limit,
        used: rate.search.used,
        remaining: Math.max(rate.search.limit - rate.search.used, 0),
        reset: rate.search.reset,
      };
      overview.resources.core = core;
      overview.resources.search = searchRate;
      overview.rate = core;
      return json(res, 200, overview, rateHeaders("core", false));
    }
    if (path === "/meta/public_keys/secret_scanning") {
      return json(res, 200, { public_keys: publicKeys }, rateHeaders("core", true));
    }
    json(res, 404, {
      message: "Not Found",
      documentation_url: "https://docs.github.com/rest",
      status: "404",
    });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    // "close" also fires for a request the client gave up on (a timeout), logged as 499.
    res.on("close", () =>
      requests.push({
        method: req.method ?? "GET",
        path: url.pathname,
        query: url.search,
        accept: req.headers.accept ?? "",
        apiVersion: String(req.headers["x-github-api-version"] ?? ""),
        status: res.writableFinished ? res.statusCode : 499,
        at: Date.now(),
      }),
    );
    handle(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { message: "stand-in error" });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    stream,
    publish,
    publishRaw: addVisible,
    advance(ms) {
      const events = options.firehose?.advance(ms) ?? [];
      for (const event of events) addVisible(event);
      return events.length;
    },
    startReplay({ intervalMs, batch }) {
      if (replay) clearInterval(replay);
      replay = setInterval(() => {
        if (publish(batch) === 0 && replay) clearInterval(replay);
      }, intervalMs);
      replay.unref();
    },
    published: () => visible.length,
    addCodeFiles(files) {
      for (const file of files) codeFiles.push({ ...file, sha: blobSha(file.content) });
    },
    addBranch(repo, branchBase, commits) {
      branches.push({ repo, base: branchBase, commits: commits.map((c) => ({ ...c })) });
    },
    addDiff(repo, before, head, diff) {
      diffs.set(`${repo}@${before}...${head}`, diff);
      diffs.set(`${repo}@${head}`, diff);
    },
    setPublicKeys(keys) {
      publicKeys = keys;
    },
    injectFault(fault) {
      faultList.push({ ...fault, left: fault.count ?? 1 });
    },
    requests,
    count(prefix) {
      return requests.filter((r) =>
        typeof prefix === "string" ? r.path.startsWith(prefix) : prefix.test(`${r.path}${r.query}`),
      ).length;
    },
    async stop() {
      if (replay) clearInterval(replay);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
