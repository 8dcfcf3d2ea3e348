import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { run as anomalies } from "../../bin/commands/anomalies.js";
import { run as logs } from "../../bin/commands/logs.js";
import { AnomalySchema } from "../../lambdas/domain/anomaly/anomaly.js";
import { generateAccessLogs } from "../support/access-log-generator.js";

/** Runs a CLI command in-process and returns its exit code and stdout lines. */
async function cli(command: (args: string[]) => Promise<number>, args: string[]) {
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    const code = await command(args);
    return { code, lines: out.join("").split("\n").filter(Boolean) };
  } finally {
    spy.mockRestore();
    vi.restoreAllMocks();
  }
}

describe("keywatch logs ingest / anomalies list", () => {
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), "keywatch-logs-"));
    vi.stubEnv("KEYWATCH_HOME", home);
    vi.stubEnv("DYNAMODB_ENDPOINT", inject("dynamoDbEndpoint"));
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("prints each anomaly raised as a JSON line, skipping bad lines, and lists them back", async () => {
    // Arrange: 12 hours of 10 keys with attacks, plus garbage the command must survive.
    const stream = generateAccessLogs({ seed: 5, keys: 10, hours: 12, start: Date.now() - 12 * 3_600_000 });
    const lines = ["not json", '{"awslogs":{"data":"%%%"}}'];
    for (let m = 0; m < stream.minutes; m++) lines.push(...stream.minuteLines(m));
    const file = join(home, "access.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);

    // Act
    const ingest = await cli(logs, ["ingest", file]);
    const listed = await cli(anomalies, ["list", "--json", "--days", "2"]);

    // Assert
    expect(ingest.code).toBe(0);
    const printed = ingest.lines.map((l) => AnomalySchema.parse(JSON.parse(l)));
    // No keys are registered here: the detectors that need no registry must speak.
    expect([...new Set(printed.map((a) => a.type))].sort()).toEqual([
      "credential_stuffing",
      "new_country",
      "rate_spike",
    ]);
    expect(listed.code).toBe(0);
    expect(listed.lines.length).toBeGreaterThan(0);
  }, 120_000);

  it("refuses a missing file with exit code 2", async () => {
    expect((await cli(logs, ["ingest", join(home, "absent.jsonl")])).code).toBe(2);
  });
});
