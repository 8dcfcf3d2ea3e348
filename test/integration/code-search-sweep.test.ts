import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createGitHubClient, GITHUB_API_VERSION } from "../../lambdas/adapters/github-client.js";
import { createGitHubCodeSearchApi } from "../../lambdas/adapters/github-code-search-api.js";
import { createGitHubScanState } from "../../lambdas/adapters/github-scan-state.js";
import { createCodeSearchPacer, type RequestPacer } from "../../lambdas/adapters/request-pacer.js";
import {
  buildSweepQueries,
  type SweepDeps,
  sweepCodeSearch,
} from "../../lambdas/domain/code-search-sweep.js";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";
import { type GitHubStandIn, startGitHubStandIn } from "../../standin/github/github-stand-in.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";
import { collectingRecorder, manualClock } from "../support/github-scanning.js";

let standIn: GitHubStandIn;
let tables: TestTables;

beforeEach(async () => {
  tables = await createTestTables();
  standIn = await startGitHubStandIn();
});

afterEach(async () => {
  await standIn.stop();
  tables.client.destroy();
});

const COMMIT = "a".repeat(40);

function setup(
  options: { pacer?: RequestPacer; maxSearchRequests?: number; queries?: string[]; perPage?: number } = {},
) {
  const clock = manualClock();
  const recorder = collectingRecorder();
  const client = createGitHubClient({ baseUrl: standIn.url, token: "test-token", retryBaseMs: 20 });
  // A pacer on a fake clock: waits advance the clock instead of the test's real time.
  const pacer =
    options.pacer ?? createCodeSearchPacer({ now: clock.ms, sleep: async (ms) => clock.advance(ms) });
  const deps: SweepDeps = {
    api: createGitHubCodeSearchApi({ client, pacer, deadline: () => clock.ms() + 15 * 60_000 }),
    state: createGitHubScanState({ client: tables.client, tableName: tables.names.state, now: clock.now }),
    recordFindings: recorder.record,
    now: clock.now,
    settings: {
      prefixes: ["smk_"],
      queries: options.queries ?? ['"smk_" in:file'],
      maxSearchRequests: options.maxSearchRequests ?? 50,
      maxBlobFetches: 20,
      perPage: options.perPage ?? 100,
    },
  };
  return { deps, clock, recorder, pacer };
}

describe("code-search sweep", () => {
  it("finds a key from the text-match fragment without fetching the blob", async () => {
    const key = generateKey();
    standIn.addCodeFiles([
      { repo: "acme/app", path: ".env", content: `SMELTER_API_KEY=${key}\n`, commit: COMMIT },
    ]);
    const { deps, recorder } = setup();
    const counters = await sweepCodeSearch(deps);
    expect(recorder.findings.map((f) => [f.keyHash, f.source, f.location.path, f.location.repo])).toEqual([
      [keyHash(key), "github_code_search", ".env", "acme/app"],
    ]);
    expect(counters.blobFetches).toBe(0);
    expect(standIn.count("/repos/")).toBe(0);
  });

  it("fetches the blob when the fragment cuts the key off, and links to the line", async () => {
    const key = generateKey();
    // The fragment ends 120 characters after the first match, in the middle of the key.
    const content = `line one\n// smk_ keys look like this: ${"y".repeat(70)} ${key}\n`;
    standIn.addCodeFiles([{ repo: "acme/web", path: "src/config.js", content, commit: COMMIT }]);
    const { deps, recorder } = setup();
    const counters = await sweepCodeSearch(deps);
    expect(counters.blobFetches).toBe(1);
    expect(standIn.count("/repos/acme/web/git/blobs/")).toBe(1);
    expect(recorder.findings[0]?.location).toMatchObject({
      line: 2,
      url: `https://github.com/acme/web/blob/${COMMIT}/src/config.js#L2`,
    });
  });

  it("reports only new locations on a re-sweep (blob sha + path remembered)", async () => {
    standIn.addCodeFiles([
      { repo: "acme/a", path: ".env", content: `K=${generateKey()}\n`, commit: COMMIT },
      { repo: "acme/b", path: ".env", content: `K=${generateKey()}\n`, commit: COMMIT },
    ]);
    const { deps, recorder } = setup();
    await sweepCodeSearch(deps);
    const added = generateKey();
    standIn.addCodeFiles([{ repo: "acme/c", path: "app.py", content: `KEY = "${added}"\n`, commit: COMMIT }]);
    const again = await sweepCodeSearch(deps);
    expect(again.alreadySeen).toBe(2);
    expect(recorder.findings.slice(2).map((f) => f.keyHash)).toEqual([keyHash(added)]);
  });

  it("dedupes the same blob and path seen by two queries in one sweep", async () => {
    standIn.addCodeFiles([
      { repo: "acme/a", path: "k.env", content: `K=${generateKey()}\n`, commit: COMMIT },
    ]);
    const { deps, recorder } = setup({ queries: ['"smk_" in:file', '"smk_" in:file extension:env'] });
    const counters = await sweepCodeSearch(deps);
    expect(counters.duplicates).toBe(1);
    expect(recorder.findings).toHaveLength(1);
  });

  it("paginates up to the 1000-result cap and counts what lies beyond", async () => {
    standIn.addCodeFiles(
      Array.from({ length: 1050 }, (_, i) => ({
        repo: `user${i}/repo`,
        path: "config.env",
        content: `# smk_ placeholder ${i}\n`,
        commit: COMMIT,
      })),
    );
    const { deps } = setup();
    const counters = await sweepCodeSearch(deps);
    expect(standIn.count("/search/code")).toBe(10);
    expect(counters.results).toBe(1000);
    expect(counters.beyondCap).toBe(50);
  });

  it("waits for the 9/min limit instead of failing when a page is over it", async () => {
    standIn.addCodeFiles(
      Array.from({ length: 100 }, (_, i) => ({
        repo: `u${i}/r`,
        path: "a.env",
        content: "smk_\n",
        commit: COMMIT,
      })),
    );
    const { deps, pacer, clock } = setup({ perPage: 10 });
    const started = clock.ms();
    const counters = await sweepCodeSearch(deps);
    expect(counters.searchRequests).toBe(10);
    expect(pacer.stats.waits).toBe(1);
    expect(clock.ms() - started).toBeGreaterThanOrEqual(60_000);
    expect(standIn.requests.filter((r) => r.path === "/search/code").every((r) => r.status === 200)).toBe(
      true,
    );
  });

  it("sweeps a repository queued by a PublicEvent first, with a repo: query", async () => {
    const key = generateKey();
    standIn.addCodeFiles([
      { repo: "octocat/was-private", path: "deploy.sh", content: `export K=${key}\n`, commit: COMMIT },
    ]);
    const { deps, recorder } = setup({ queries: [] });
    await createGitHubScanState({ client: tables.client, tableName: tables.names.state }).queueRepoSweep(
      "octocat/was-private",
    );
    const counters = await sweepCodeSearch(deps);
    expect(counters.reposSwept).toBe(1);
    expect(standIn.requests.find((r) => r.path === "/search/code")?.query).toContain(
      "repo%3Aoctocat%2Fwas-private",
    );
    expect(recorder.findings.map((f) => f.keyHash)).toEqual([keyHash(key)]);
    expect(await deps.state.queuedRepos(10)).toEqual([]);
  });
});

describe("code-search failures", () => {
  it("backs off on a 422 'spammed': the query cursor doesn't advance and the queued repo stays queued", async () => {
    const state = createGitHubScanState({ client: tables.client, tableName: tables.names.state });
    await state.queueRepoSweep("octocat/was-private");
    standIn.injectFault({ path: "/search/code", kind: "spammed" });
    const { deps } = setup({ queries: ['"smk_" in:file', '"smk_" in:file extension:env'] });

    const counters = await sweepCodeSearch(deps);

    expect({
      stopped: counters.stopped,
      queued: await state.queuedRepos(10),
      cursor: await state.loadSweepCursor(),
    }).toEqual({ stopped: "rate_limited", queued: ["octocat/was-private"], cursor: { queryIndex: 0 } });
  });

  it("keeps a location whose blob failed transiently unseen, and reads it on the next sweep", async () => {
    const key = generateKey();
    const content = `line one\n// smk_ keys look like this: ${"y".repeat(70)} ${key}\n`;
    standIn.addCodeFiles([{ repo: "acme/web", path: "src/config.js", content, commit: COMMIT }]);
    standIn.injectFault({ path: "/repos/acme/web/git/blobs/", kind: "server_error", status: 503 });
    const { deps, recorder } = setup();

    const first = await sweepCodeSearch(deps);
    const second = await sweepCodeSearch(deps);

    expect({
      firstFailures: first.blobFailures,
      firstStopped: first.stopped,
      secondNew: second.newLocations,
      found: recorder.findings.map((f) => f.keyHash),
    }).toEqual({ firstFailures: 1, firstStopped: undefined, secondNew: 1, found: [keyHash(key)] });
  });

  it("skips a blocked blob (403 without rate-limit signs) and carries on", async () => {
    const key = generateKey();
    const cut = `line one\n// smk_ keys look like this: ${"y".repeat(70)} ${generateKey()}\n`;
    standIn.addCodeFiles([
      { repo: "blocked/repo", path: "a.js", content: cut, commit: COMMIT },
      { repo: "acme/app", path: ".env", content: `SMELTER_API_KEY=${key}\n`, commit: COMMIT },
    ]);
    standIn.injectFault({ path: "/repos/blocked/repo/git/blobs/", kind: "blocked" });
    const { deps, recorder } = setup();

    const counters = await sweepCodeSearch(deps);

    expect([counters.stopped, recorder.findings.map((f) => f.keyHash)]).toEqual([undefined, [keyHash(key)]]);
  });

  it("ends the sweep cleanly on a 401", async () => {
    standIn.injectFault({ path: "/search/code", kind: "unauthorized" });
    const { deps } = setup();

    const counters = await sweepCodeSearch(deps);

    expect(counters.stopped).toBe("unauthorized");
  });

  it("sends X-GitHub-Api-Version on every request", async () => {
    const content = `line one\n// smk_ keys look like this: ${"y".repeat(70)} ${generateKey()}\n`;
    standIn.addCodeFiles([{ repo: "acme/web", path: "src/config.js", content, commit: COMMIT }]);
    const { deps } = setup();

    await sweepCodeSearch(deps);

    expect(standIn.requests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(standIn.requests.map((r) => r.apiVersion))).toEqual(new Set([GITHUB_API_VERSION]));
  });
});

describe("code search on GitHub's legacy engine (whole tokens, quotes ignored, 2 fragments)", () => {
  async function legacy(burstLimit = 100) {
    await standIn.stop();
    standIn = await startGitHubStandIn({ legacyCodeSearch: { burstLimit } });
  }

  it("the prefix alone doesn't match a key token, so the sweep also searches key names", async () => {
    await legacy();
    const key = generateKey();
    standIn.addCodeFiles([
      { repo: "acme/app", path: "config/.env", content: `DEBUG=1\nSMELTER_API_KEY=${key}\n`, commit: COMMIT },
    ]);
    const prefixOnly = setup({ queries: ['"smk_" in:file'] });
    const shipped = setup({ queries: buildSweepQueries(["smk_"]) });

    await sweepCodeSearch(prefixOnly.deps);
    await sweepCodeSearch(shipped.deps);

    expect([prefixOnly.recorder.findings.length, shipped.recorder.findings.map((f) => f.keyHash)]).toEqual([
      0,
      [keyHash(key)],
    ]);
  });

  it("fetches the file when a key name matched but the 2 fragments don't show the key", async () => {
    await legacy();
    const key = generateKey();
    const filler = Array.from({ length: 30 }, (_, i) => `# note ${i}`).join("\n");
    const content = `SMELTER_API_KEY is read below\n${filler}\nexport SMELTER_API_KEY=\n${filler}\nKEY=${key}\n`;
    standIn.addCodeFiles([{ repo: "acme/ops", path: "deploy.sh", content, commit: COMMIT }]);
    const { deps, recorder } = setup({ queries: ["SMELTER_API_KEY in:file"] });

    const counters = await sweepCodeSearch(deps);

    expect([counters.blobFetches, recorder.findings.map((f) => f.keyHash)]).toEqual([1, [keyHash(key)]]);
  });

  it("answers a burst of searches with 422, which the sweep takes as back-off", async () => {
    await legacy(2);
    const { deps } = setup({ queries: ["a in:file", "b in:file", "c in:file", "d in:file"] });

    const counters = await sweepCodeSearch(deps);

    expect([
      counters.searchRequests,
      counters.stopped,
      (await deps.state.loadSweepCursor()).queryIndex,
    ]).toEqual([3, "rate_limited", 2]);
  });
});
