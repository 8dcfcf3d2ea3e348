import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { run as watch } from "../../bin/commands/watch.js";
import { createWatchListStore } from "../../lambdas/adapters/watch-list-store.js";
import { createTestTables } from "../support/dynamodb.js";

let stdout: string;
let stderr: string;

beforeEach(() => {
  stdout = "";
  stderr = "";
  vi.stubEnv("DYNAMODB_ENDPOINT", inject("dynamoDbEndpoint"));
  vi.stubEnv("KEYWATCH_HOME", mkdtempSync(join(tmpdir(), "keywatch-watch-cli-")));
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

async function listJson(project?: string): Promise<{ project: string; target: string; kind: string }[]> {
  stdout = "";
  expect(await watch(["list", "--json", ...(project ? ["--project", project] : [])])).toBe(0);
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe("keywatch watch add", () => {
  it("adds an owner and a repo, idempotently", async () => {
    const project = `cli-${Date.now()}`;
    expect(await watch(["add", "--project", project, "Smelter-Labs"])).toBe(0);
    expect(await watch(["add", "--project", project, "smelter-labs"])).toBe(0);
    expect(stderr).toContain("already watched");
    expect(await watch(["add", "--project", project, "octocat/Hello-World"])).toBe(0);
    expect(await listJson(project)).toEqual([
      expect.objectContaining({ target: "octocat/Hello-World", kind: "repo" }),
      expect.objectContaining({ target: "Smelter-Labs", kind: "owner" }),
    ]);
  });

  it.each([
    [["add", "--project", "p", "bad-"], /GitHub owner/],
    [["add", "--project", "p", "a/b/c"], /OWNER or OWNER\/REPO/],
    [["add", "octocat"], /--project: required/],
    [["add", "--project", "bad project", "octocat"], /--project/],
    [["add", "--project", "p"], /one OWNER/],
    [["watch-all"], /expected add, list or remove/],
    [["list", "--colour"], /Unknown option/],
  ])("refuses %j with exit 2 and a clear message", async (args, message) => {
    expect(await watch(args)).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain("usage: keywatch watch");
  });
});

describe("keywatch watch remove", () => {
  it("removes (any case) and says so when there was nothing to remove", async () => {
    const project = `rm-${Date.now()}`;
    await watch(["add", "--project", project, "octocat"]);
    expect(await watch(["remove", "--project", project, "OCTOCAT"])).toBe(0);
    expect(stderr).toContain("stopped watching octocat");
    expect(await watch(["remove", "--project", project, "octocat"])).toBe(0);
    expect(stderr).toContain("was not watched");
    expect(await listJson(project)).toEqual([]);
  });
});

describe("keywatch watch on a deployed table (WATCH_LIST_TABLE)", () => {
  it("writes the named table as it is, without a local environment", async () => {
    const { client, names } = await createTestTables();
    vi.stubEnv("WATCH_LIST_TABLE", names.watchList);
    expect(await watch(["add", "--project", "deployed", "Octocat/Hello-World"])).toBe(0);
    const entries = await createWatchListStore({ client, tableName: names.watchList }).listEntries();
    expect(entries.map((entry) => [entry.project, entry.target.id])).toEqual([
      ["deployed", "octocat/hello-world"],
    ]);
  });
});

describe("keywatch watch list", () => {
  it("prints a table by default", async () => {
    const project = `tbl-${Date.now()}`;
    await watch(["add", "--project", project, "octocat"]);
    stdout = "";
    expect(await watch(["list", "--project", project])).toBe(0);
    expect(stdout.split("\n")[0]).toMatch(/^project\s+target\s+kind\s+added$/);
    expect(stdout).toContain(project);
  });
});
