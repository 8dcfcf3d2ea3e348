import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createTables } from "../../bin/local/create-tables.js";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createDocumentClient } from "../../lambdas/adapters/dynamodb-client.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { localTableNames } from "../../lambdas/adapters/table-specs.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { keyHash } from "../../lambdas/domain/key-format.js";

const home = mkdtempSync(join(tmpdir(), "keywatch-privacy-cli-"));
const person = `${randomUUID().slice(0, 8)}@example.com`;
let hash: string;

function keywatch(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bin/keywatch.ts", ...args], {
    cwd: join(import.meta.dirname, "../.."),
    env: {
      ...process.env,
      NODE_NO_WARNINGS: "1",
      KEYWATCH_HOME: home,
      DYNAMODB_ENDPOINT: inject("dynamoDbEndpoint"),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

beforeAll(async () => {
  // The CLI uses the local table names on DYNAMODB_ENDPOINT, like every local command.
  const client = createDocumentClient({ endpoint: inject("dynamoDbEndpoint") });
  const tables = localTableNames();
  await createTables(client, tables);
  const { rawKey } = await issueKey("cli", person, {
    keys: createKeyRepository(client, tables.keys),
    clock: fixedClock("2026-03-01T00:00:00Z"),
  });
  hash = keyHash(rawKey);
  client.destroy();
});

afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("keywatch privacy (CLI)", () => {
  it("export prints the person's keys as JSON, by hash", async () => {
    const { code, stdout } = await keywatch(["privacy", "export", "--email", person]);
    expect([code, JSON.parse(stdout).keys.map((k: { keyHash: string }) => k.keyHash)]).toEqual([0, [hash]]);
  });

  it("delete prints an erasure receipt without the address, and export then finds nothing", async () => {
    const erased = await keywatch(["privacy", "delete", "--email", person]);
    const after = await keywatch(["privacy", "export", "--email", person]);
    expect([
      erased.code,
      erased.stdout.includes(person),
      JSON.parse(erased.stdout).keysDetached,
      JSON.parse(after.stdout).keys,
    ]).toEqual([0, false, 1, []]);
  });

  it("refuses something that is not an email address with exit code 2", async () => {
    const { code, stderr } = await keywatch(["privacy", "export", "--email", "nobody"]);
    expect([code, stderr]).toEqual([2, expect.stringContaining("invalid --email")]);
  });
});
