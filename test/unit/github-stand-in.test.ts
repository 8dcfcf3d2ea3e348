import { readFileSync } from "node:fs";
import type { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createRecordedShapeEventStream,
  type GitHubStandIn,
  startGitHubStandIn,
} from "../../standin/github/github-stand-in.js";
import { GITHUB_SCHEMAS, githubAjv, nullableToAnyOf } from "../support/github-schemas.js";

/** GitHub's published response schema for an endpoint (dereferenced OpenAPI 3.0). */
function schemaOf(file: string, mediaType = "application/json"): object {
  const spec = JSON.parse(readFileSync(`${GITHUB_SCHEMAS}/${file}`, "utf8"));
  return nullableToAnyOf(spec.responses["200"].content[mediaType].schema) as object;
}

/** The event payload is a `oneOf` whose PublicEvent member is `{}`: it matches everything, so oneOf can never hold. */
function anyOfPayloads(schema: object): object {
  return JSON.parse(JSON.stringify(schema).replaceAll('"oneOf"', '"anyOf"'));
}

let standIn: GitHubStandIn;
let ajv: Ajv;

const sha = (n: number) => n.toString(16).padStart(40, "0");
const files = (tag: string, count: number) =>
  Array.from(
    { length: count },
    (_, i) => `diff --git a/${tag}${i} b/${tag}${i}\n--- a/${tag}${i}\n+++ b/${tag}${i}\n@@ -0,0 +1 @@\n+x\n`,
  ).join("");
const LONG = Array.from({ length: 260 }, (_, i) => ({ sha: sha(i + 1), diff: files(`l${i}-`, 1) }));
const WIDE = [1, 2, 3].map((n) => ({ sha: sha(1000 + n), diff: files(`w${n}-`, 120) }));

beforeAll(async () => {
  const stream = createRecordedShapeEventStream({ count: 320, pushRatio: 0.2, plantedKeys: 12, seed: 3 });
  standIn = await startGitHubStandIn({ stream, publishAll: true });
  // A branch of 260 commits (one file each) and a 3-commit branch whose compare is over 300 files.
  standIn.addBranch("acme/long", "main", LONG);
  standIn.addBranch("acme/wide", "a".repeat(40), WIDE);
  ajv = githubAjv();
});

afterAll(async () => {
  await standIn.stop();
});

async function get(path: string, accept = "application/vnd.github+json") {
  return fetch(`${standIn.url}${path}`, { headers: { accept } });
}

const compiled = new WeakMap<object, ReturnType<Ajv["compile"]>>();

function expectValid(schema: object, data: unknown) {
  const validate = compiled.get(schema) ?? ajv.compile(schema);
  compiled.set(schema, validate);
  const ok = validate(data);
  expect(ok ? [] : validate.errors?.slice(0, 5)).toEqual([]);
}

// Compiling GitHub's dereferenced event schema takes seconds on a loaded 2-core machine.
describe("stand-in responses match GitHub's published schemas", { timeout: 60_000 }, () => {
  it("serves /events pages that validate against the list-public-events schema", async () => {
    const schema = anyOfPayloads(schemaOf("list-public-events.json"));
    for (const page of [1, 2, 3])
      expectValid(schema, await (await get(`/events?per_page=100&page=${page}`)).json());
  });

  it("serves compare JSON that validates against the compare-commits schema", async () => {
    const push = standIn.stream.events.find(
      (e) => e.type === "PushEvent" && !/^0+$/.test(String((e.payload as { before: string }).before)),
    );
    const { before, head } = (push?.payload ?? {}) as { before: string; head: string };
    const response = await get(`/repos/${push?.repo.name}/compare/${before}...${head}`);
    expectValid(schemaOf("compare-commits.json"), await response.json());
  });

  it("serves a paginated compare page and a commit that validate against their schemas", async () => {
    const page = await get(`/repos/acme/long/compare/main...${sha(260)}?per_page=100&page=3`);
    expectValid(schemaOf("compare-commits.json"), await page.json());
    const commit = await get(`/repos/acme/wide/commits/${sha(1002)}`);
    expectValid(schemaOf("get-commit.json"), await commit.json());
  });

  it("serves code search with text matches that validates against the search-code schema", async () => {
    const response = await get(
      "/search/code?q=%22smk_%22+in%3Afile",
      "application/vnd.github.text-match+json",
    );
    const body = (await response.json()) as { items: { text_matches?: unknown[] }[] };
    expect(body.items[0]?.text_matches).toHaveLength(1);
    expectValid(schemaOf("search-code.json"), body);
  });

  it("serves /rate_limit that validates against the rate-limit schema", async () => {
    expectValid(schemaOf("rate-limit.json"), await (await get("/rate_limit")).json());
  });
});

describe("stand-in protocol", () => {
  it("serves at most 300 events, paginated with Link headers", async () => {
    const first = await get("/events?per_page=100");
    expect(first.headers.get("link")).toMatch(/page=2>; rel="next"/);
    const third = await get("/events?per_page=100&page=3");
    expect(third.headers.get("link")).not.toMatch(/rel="next"/);
    expect(((await third.json()) as unknown[]).length).toBe(100);
  });

  it("answers If-None-Match with 304 and X-Poll-Interval", async () => {
    const first = await get("/events?per_page=100");
    const etag = first.headers.get("etag") ?? "";
    const again = await fetch(`${standIn.url}/events?per_page=100`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("x-poll-interval")).toBe("60");
  });

  it("serves a push's diff with the diff media type", async () => {
    const push = standIn.stream.events.find((e) => e.type === "PushEvent");
    const { head } = (push?.payload ?? {}) as { head: string };
    const response = await get(`/repos/${push?.repo.name}/commits/${head}`, "application/vnd.github.diff");
    expect(await response.text()).toMatch(/^diff --git /);
  });

  it("counts requests per path and serves the configured partner public keys", async () => {
    standIn.setPublicKeys([{ key_identifier: "abc", key: "-----BEGIN PUBLIC KEY-----", is_current: true }]);
    const before = standIn.count("/meta/public_keys/secret_scanning");
    const body = (await (await get("/meta/public_keys/secret_scanning")).json()) as {
      public_keys: unknown[];
    };
    expect(body.public_keys).toHaveLength(1);
    expect(standIn.count("/meta/public_keys/secret_scanning")).toBe(before + 1);
  });

  it("injects a secondary rate limit with retry-after on the next request only", async () => {
    standIn.injectFault({ path: "/rate_limit", kind: "secondary_limit", retryAfter: 7 });
    const limited = await get("/rate_limit");
    expect([limited.status, limited.headers.get("retry-after")]).toEqual([403, "7"]);
    expect((await get("/rate_limit")).status).toBe(200);
  });

  it("refuses search pages beyond the 1000-result cap with 422", async () => {
    expect((await get("/search/code?q=smk_&per_page=100&page=11")).status).toBe(422);
  });
});

describe("compares as GitHub limits them", () => {
  it("answers a compare diff over 300 files with 406 too_large, and each commit's own diff", async () => {
    const compare = await get(
      `/repos/acme/wide/compare/${"a".repeat(40)}...${sha(1003)}`,
      "application/vnd.github.diff",
    );
    const body = (await compare.json()) as { errors: { code: string }[]; message: string };
    const commit = await get(`/repos/acme/wide/commits/${sha(1002)}`, "application/vnd.github.diff");
    expect({
      status: compare.status,
      code: body.errors[0]?.code,
      message: body.message,
      commitStatus: commit.status,
      commitFiles: (await commit.text()).match(/^diff --git /gm)?.length,
    }).toEqual({
      status: 406,
      code: "too_large",
      message: expect.stringContaining("maximum number of files (300)"),
      commitStatus: 200,
      commitFiles: 120,
    });
  });

  it("lists at most 250 commits without paging (the newest, the last one the head) and all of them by pages", async () => {
    const commitsOf = async (query: string) => {
      const response = await get(`/repos/acme/long/compare/main...${sha(260)}${query}`);
      const body = (await response.json()) as {
        total_commits: number;
        commits: { sha: string; parents: { sha: string }[] }[];
      };
      return { body, link: response.headers.get("link") ?? "" };
    };
    const unpaged = await commitsOf("");
    const pages = await Promise.all([1, 2, 3].map((n) => commitsOf(`?per_page=100&page=${n}`)));
    const paged = pages.flatMap((p) => p.body.commits);
    expect({
      total: unpaged.body.total_commits,
      unpaged: unpaged.body.commits.length,
      unpagedLast: unpaged.body.commits.at(-1)?.sha,
      paged: paged.map((c) => c.sha),
      parentOfSecond: paged[1]?.parents[0]?.sha,
      nextLink: pages.map((p) => /rel="next"/.test(p.link)),
    }).toEqual({
      total: 260,
      unpaged: 250,
      unpagedLast: sha(260),
      paged: LONG.map((c) => c.sha),
      parentOfSecond: sha(1),
      nextLink: [true, true, false],
    });
  });

  it("compares what is left of a branch from one of its commits", async () => {
    const response = await get(`/repos/acme/wide/compare/${sha(1001)}...${sha(1003)}?per_page=100`);
    const body = (await response.json()) as { total_commits: number };
    const diff = await get(
      `/repos/acme/wide/compare/${sha(1001)}...${sha(1003)}`,
      "application/vnd.github.diff",
    );
    expect([body.total_commits, diff.status]).toEqual([2, 200]);
  });
});
