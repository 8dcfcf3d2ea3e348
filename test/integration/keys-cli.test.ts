import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { run as incidents } from "../../bin/commands/incidents.js";
import { run as keys } from "../../bin/commands/keys.js";
import { isValidKey, keyHash, keyIdOf } from "../../lambdas/domain/key-format.js";

let stdout: string;
let stderr: string;

beforeEach(() => {
  stdout = "";
  stderr = "";
  vi.stubEnv("DYNAMODB_ENDPOINT", inject("dynamoDbEndpoint"));
  vi.stubEnv("KEYWATCH_HOME", mkdtempSync(join(tmpdir(), "keywatch-cli-")));
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

async function issue(): Promise<string> {
  const code = await keys(["issue", "--project", "cli-test", "--email", "owner@example.com"]);
  expect(code).toBe(0);
  return stdout.split("\n")[0] ?? "";
}

describe("keywatch keys issue", () => {
  it("prints the new raw key alone on the first stdout line", async () => {
    const rawKey = await issue();
    expect(isValidKey(rawKey)).toBe(true);
    expect(stdout).toBe(`${rawKey}\n`);
  });

  it("rejects an invalid email with exit code 2", async () => {
    const code = await keys(["issue", "--project", "p", "--email", "not-an-email"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--email");
  });
});

describe("keywatch keys list", () => {
  it("shows the key's id and never its raw form", async () => {
    const rawKey = await issue();
    stdout = "";
    await keys(["list", "--json"]);
    expect(stdout).toContain(keyIdOf(keyHash(rawKey)));
    expect(stdout).not.toContain(rawKey);
  });
});

describe("keywatch keys revoke", () => {
  it("revokes by keyId", async () => {
    const rawKey = await issue();
    stdout = "";
    const code = await keys(["revoke", keyIdOf(keyHash(rawKey))]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ keyId: keyIdOf(keyHash(rawKey)), status: "revoked" });
  });
});

describe("keywatch incidents", () => {
  it("refuses a malformed incident id with exit code 2", async () => {
    expect(await incidents(["show", "not-an-id"])).toBe(2);
  });
});
