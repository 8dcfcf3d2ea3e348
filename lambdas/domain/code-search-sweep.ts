import { type Finding, FindingSchema, type Location, type RecordFindings } from "./finding.js";
import { BODY_LENGTH, CHECK_LENGTH } from "./key-format.js";
import { scanBuffer } from "./key-scanner.js";
import { GitHubRunStoppedError, type SkipReason, type StopReason } from "./poll-events.js";

/** One code-search result, reduced to what the sweep uses. */
export interface CodeSearchItem {
  repo: string;
  path: string;
  /** Blob sha of the file. */
  sha: string;
  htmlUrl: string;
  /** `text_matches[].fragment` of the file's content. */
  fragments: string[];
}

export interface CodeSearchPage {
  totalCount: number;
  incompleteResults: boolean;
  items: CodeSearchItem[];
}

/** The GitHub calls the sweep makes (lambdas/adapters/github-code-search-api.ts). */
export interface CodeSearchApi {
  /** One page; the adapter waits for the 9/min search limiter (or stops the run at its deadline). */
  search(input: { query: string; page: number; perPage: number }): Promise<CodeSearchPage>;
  /**
   * The file's whole content, for when the fragments cut a candidate off; "" when it can never be
   * read (gone, blocked), undefined when it can't be read now (5xx, timeout): retried next sweep.
   */
  blob(repo: string, sha: string): Promise<string | undefined>;
}

export interface SweepCursor {
  /** Index in the query list the next run starts from (queries rotate across runs). */
  queryIndex: number;
}

/** Sweep state in the state table (lambdas/adapters/github-scan-state.ts). */
export interface SweepState {
  /** The location keys (`blobSha:path`) not reported before. */
  unseenLocations(keys: readonly string[]): Promise<Set<string>>;
  markLocationsSeen(keys: readonly string[]): Promise<void>;
  /** Repos queued for a targeted sweep (PublicEvent). */
  queuedRepos(limit: number): Promise<string[]>;
  completeQueuedRepo(repo: string): Promise<void>;
  loadSweepCursor(): Promise<SweepCursor>;
  saveSweepCursor(cursor: SweepCursor): Promise<void>;
}

/** GitHub's code search never returns more than this many results per query. */
export const SEARCH_RESULT_CAP = 1000;

/**
 * Extensions where keys tend to be committed. Each becomes its own query, so a prefix with more
 * than 1000 results is still covered (each shard has its own 1000-result cap).
 */
export const DEFAULT_SHARDS = ["env", "json", "yml", "yaml", "py", "js", "ts", "ipynb", "toml", "sh"];

/**
 * Names keys are committed under. `GET /search/code` runs on GitHub's legacy engine, which matches
 * whole tokens and ignores quotes: the prefix alone (`smk_`) only matches where a tokenizer splits
 * the key from it, so the sweep also searches the names a key sits next to, in code and `.env` files.
 */
export const DEFAULT_KEY_NAMES = ["SMELTER_API_KEY", "SMELTER_KEY", "SMELTER_TOKEN"];

/**
 * Queries per prefix: the prefix alone (and sharded by extension so each shard has its own
 * 1,000-result cap), then each key name in any file and in `.env` files. A result's fragments are
 * scanned for a whole key; when they cut it off, the file is fetched (budgeted).
 */
export function buildSweepQueries(
  prefixes: readonly string[],
  shards: readonly string[] = DEFAULT_SHARDS,
  keyNames: readonly string[] = DEFAULT_KEY_NAMES,
): string[] {
  const queries: string[] = [];
  for (const prefix of prefixes) {
    queries.push(`"${prefix}" in:file`);
    for (const shard of shards) queries.push(`"${prefix}" in:file extension:${shard}`);
  }
  for (const name of keyNames) queries.push(`${name} in:file`, `${name} filename:.env`);
  return queries;
}

/** A targeted sweep of one repository (made public: a classic leak moment). */
export function repoSweepQueries(repo: string, prefixes: readonly string[]): string[] {
  return prefixes.map((prefix) => `repo:${repo} "${prefix}"`);
}

export function locationKey(item: CodeSearchItem): string {
  return `${item.sha}:${item.path}`;
}

/** True when a fragment shows a prefix whose key runs past the fragment's end (cut off). */
export function fragmentCutsCandidate(fragment: string, prefixes: readonly string[]): boolean {
  for (const prefix of prefixes) {
    let at = fragment.indexOf(prefix);
    while (at !== -1) {
      const rest = fragment.slice(at + prefix.length);
      if (rest.length < BODY_LENGTH + CHECK_LENGTH && /^[0-9A-Za-z]*$/.test(rest)) return true;
      at = fragment.indexOf(prefix, at + 1);
    }
  }
  return false;
}

function commitOf(htmlUrl: string): string | undefined {
  return /\/blob\/([0-9a-f]{40})\//.exec(htmlUrl)?.[1];
}

export interface SweepSettings {
  prefixes: readonly string[];
  queries: readonly string[];
  /** Search requests a run may make (9/min: a 15-minute schedule fits ~120). */
  maxSearchRequests: number;
  maxBlobFetches: number;
  perPage: number;
  /** Names keys are committed under (default DEFAULT_KEY_NAMES). */
  keyNames?: readonly string[];
}

export interface SweepDeps {
  api: CodeSearchApi;
  state: SweepState;
  recordFindings: RecordFindings;
  now: () => Date;
  settings: SweepSettings;
}

export interface SweepCounters {
  queries: number;
  searchRequests: number;
  blobFetches: number;
  results: number;
  /** Results GitHub wouldn't page to (beyond the 1000 cap). */
  beyondCap: number;
  duplicates: number;
  alreadySeen: number;
  newLocations: number;
  reposSwept: number;
  bytesScanned: number;
  findings: number;
  /** Blobs that failed transiently: their locations stay unseen so the next sweep reads them. */
  blobFailures: number;
  skipped?: SkipReason;
  stopped?: StopReason | "budget";
}

export function emptySweepCounters(): SweepCounters {
  return {
    queries: 0,
    searchRequests: 0,
    blobFetches: 0,
    results: 0,
    beyondCap: 0,
    duplicates: 0,
    alreadySeen: 0,
    newLocations: 0,
    reposSwept: 0,
    bytesScanned: 0,
    findings: 0,
    blobFailures: 0,
  };
}

class BudgetSpent extends Error {}

/**
 * One code-search sweep: queued repos first, then the rotating query list, each paginated up to
 * the 1000-result cap. Results are deduplicated by blob sha + path, within the run and against
 * the locations reported by earlier sweeps, so a re-sweep reports only new locations.
 */
export async function sweepCodeSearch(deps: SweepDeps): Promise<SweepCounters> {
  const { api, state, settings } = deps;
  const counters = emptySweepCounters();
  const seenAt = deps.now().toISOString();
  const runSeen = new Set<string>();
  const keyNames = (settings.keyNames ?? DEFAULT_KEY_NAMES).map((name) => name.toUpperCase());

  async function runQuery(query: string): Promise<void> {
    counters.queries++;
    const perPage = Math.min(Math.max(settings.perPage, 1), 100);
    const lastPage = Math.ceil(SEARCH_RESULT_CAP / perPage);
    for (let page = 1; page <= lastPage; page++) {
      if (counters.searchRequests >= settings.maxSearchRequests) throw new BudgetSpent();
      counters.searchRequests++;
      const result = await api.search({ query, page, perPage });
      if (page === 1) counters.beyondCap += Math.max(0, result.totalCount - SEARCH_RESULT_CAP);
      counters.results += result.items.length;
      await handleItems(result.items);
      if (result.items.length < perPage || page * perPage >= Math.min(result.totalCount, SEARCH_RESULT_CAP))
        break;
    }
  }

  async function handleItems(items: CodeSearchItem[]): Promise<void> {
    const fresh: CodeSearchItem[] = [];
    for (const item of items) {
      const key = locationKey(item);
      if (runSeen.has(key)) counters.duplicates++;
      else {
        runSeen.add(key);
        fresh.push(item);
      }
    }
    if (fresh.length === 0) return;
    const unseen = await state.unseenLocations(fresh.map(locationKey));
    counters.alreadySeen += fresh.length - unseen.size;
    const findings: Finding[] = [];
    const reported: string[] = [];
    for (const item of fresh.filter((i) => unseen.has(locationKey(i)))) {
      const scanned = await scanItem(item);
      findings.push(...scanned.findings);
      if (scanned.complete) reported.push(locationKey(item));
    }
    counters.newLocations += reported.length;
    if (findings.length > 0) await deps.recordFindings(findings);
    counters.findings += findings.length;
    // Marked only once recorded: a failed record leaves them to the next sweep.
    await state.markLocationsSeen(reported);
  }

  /** The item's findings; `complete` false when its blob couldn't be read now (not marked seen). */
  async function scanItem(item: CodeSearchItem): Promise<{ findings: Finding[]; complete: boolean }> {
    const base: Location = { repo: item.repo, path: item.path, kind: "code_search", url: item.htmlUrl };
    const commit = commitOf(item.htmlUrl);
    if (commit) base.commit = commit;
    const fromFragments = new Map<string, Finding>();
    let needBlob = item.fragments.length === 0;
    let namesAKey = false;
    for (const fragment of item.fragments) {
      counters.bytesScanned += Buffer.byteLength(fragment, "utf8");
      for (const f of scanBuffer(fragment, { prefixes: settings.prefixes, mode: "text" })) {
        fromFragments.set(f.keyHash, toFinding(f.keyHash, f.redacted, { ...base }));
      }
      if (fragmentCutsCandidate(fragment, settings.prefixes)) needBlob = true;
      const upper = fragment.toUpperCase();
      if (keyNames.some((name) => upper.includes(name))) namesAKey = true;
    }
    // A key name matched but the (at most 2) fragments show no key: the key may sit further on.
    if (namesAKey && fromFragments.size === 0) needBlob = true;
    if (!needBlob || counters.blobFetches >= settings.maxBlobFetches) {
      return { findings: [...fromFragments.values()], complete: true };
    }
    counters.blobFetches++;
    const content = await api.blob(item.repo, item.sha);
    if (content === undefined) {
      counters.blobFailures++;
      return { findings: [...fromFragments.values()], complete: false };
    }
    counters.bytesScanned += Buffer.byteLength(content, "utf8");
    const found = new Map<string, Finding>(fromFragments);
    for (const f of scanBuffer(content, { prefixes: settings.prefixes, mode: "text" })) {
      // The whole file gives the line, so the link can point at it.
      const url = item.htmlUrl.includes("#") ? item.htmlUrl : `${item.htmlUrl}#L${f.line}`;
      found.set(f.keyHash, toFinding(f.keyHash, f.redacted, { ...base, line: f.line, url }));
    }
    return { findings: [...found.values()], complete: true };
  }

  function toFinding(keyHash: string, redacted: string, location: Location): Finding {
    return FindingSchema.parse({ keyHash, redacted, source: "github_code_search", location, seenAt });
  }

  try {
    for (const repo of await state.queuedRepos(10)) {
      for (const query of repoSweepQueries(repo, settings.prefixes)) await runQuery(query);
      await state.completeQueuedRepo(repo);
      counters.reposSwept++;
    }
    const cursor = await state.loadSweepCursor();
    const total = settings.queries.length;
    for (let i = 0; i < total; i++) {
      const index = (cursor.queryIndex + i) % total;
      await runQuery(settings.queries[index] as string);
      await state.saveSweepCursor({ queryIndex: (index + 1) % total });
    }
  } catch (error) {
    if (error instanceof BudgetSpent) counters.stopped = "budget";
    else if (error instanceof GitHubRunStoppedError) counters.stopped = error.reason;
    else throw error;
  }
  return counters;
}
