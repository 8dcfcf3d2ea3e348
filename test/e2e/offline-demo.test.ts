import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO_OWNER } from "../../bin/local/local-services.js";
import { type LocalMonitor, startLocalMonitor } from "../../bin/local/runner.js";
import { homePaths, readLocalSettings } from "../../bin/local/settings.js";

const home = mkdtempSync(join(tmpdir(), "keywatch-demo-"));
const paths = homePaths(home);
const lines: string[] = [];
let monitor: LocalMonitor;

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out; log so far:\n${lines.join("\n")}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const emails = () =>
  existsSync(paths.emails) ? readdirSync(paths.emails).filter((f) => f.endsWith(".eml")) : [];
const alerts = () =>
  existsSync(paths.alerts) ? readFileSync(paths.alerts, "utf8").trim().split("\n").filter(Boolean) : [];

beforeAll(async () => {
  monitor = await startLocalMonitor(readLocalSettings({ PORT: "0", KEYWATCH_HOME: home }), {
    log: (line) => lines.push(line),
  });
  await until(
    () =>
      emails().length >= 1 &&
      alerts().length >= 1 &&
      lines.some((l) => l.startsWith("alert sent")) &&
      lines.some((l) => l.startsWith("github events:")),
    60_000,
  );
});

afterAll(async () => {
  await monitor?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("npm start offline demo (GitHub stand-in)", () => {
  it("shows events scanned, a leak found, the key quarantined, the email written, the alert sent and the console URL", () => {
    const seen = (pattern: RegExp) => lines.some((line) => pattern.test(line));
    expect({
      scanned: seen(/^github events: \d+ scanned/),
      leak: seen(/^leak found: smk_\w{4}…\w{4} .*key quarantined$/),
      email: seen(/^email written: /),
      alert: seen(/^alert sent: security /),
      console: seen(/^keywatch: console at http:\/\/127\.0\.0\.1:\d+\/console$/),
    }).toEqual({ scanned: true, leak: true, email: true, alert: true, console: true });
  });

  it("emails the demo owner whose keys were planted", () => {
    const first = readFileSync(join(paths.emails, emails()[0] as string), "utf8");
    expect(first).toMatch(new RegExp(`^To: .*${DEMO_OWNER}`, "m"));
  });

  it("never prints, emails or alerts a planted raw key", () => {
    const everything = [
      lines.join("\n"),
      ...emails().map((f) => readFileSync(join(paths.emails, f), "utf8")),
      alerts().join("\n"),
    ].join("\n");
    expect(monitor.demoKeys.length).toBe(3);
    for (const key of monitor.demoKeys) expect(everything).not.toContain(key);
  });
});

describe("keywatch start (the CLI)", () => {
  const children: ReturnType<typeof spawn>[] = [];
  // A child left running by a failed assertion would keep its DynamoDB Local alive: stop it.
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGTERM");
  });
  const track = <C extends ReturnType<typeof spawn>>(child: C): C => {
    children.push(child);
    return child;
  };
  const cli = (env: NodeJS.ProcessEnv) =>
    track(
      spawn(process.execPath, ["--import", "tsx", "bin/keywatch.ts", "start"], {
        cwd: join(import.meta.dirname, "../.."),
        env: { ...env, NODE_NO_WARNINGS: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );

  it("says Java is missing, plainly, when it is", async () => {
    // A PATH holding node alone: no java on it.
    const bin = mkdtempSync(join(tmpdir(), "keywatch-nojava-"));
    symlinkSync(process.execPath, join(bin, "node"));
    const child = cli({ PATH: bin, PORT: "0", KEYWATCH_HOME: join(home, "nojava") });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect([code, stderr]).toEqual([2, expect.stringContaining("DynamoDB Local needs Java 17 or newer")]);
  });

  it("shuts down cleanly on Ctrl-C (SIGINT)", async () => {
    const child = cli({
      ...process.env,
      PORT: "0",
      KEYWATCH_HOME: join(home, "cli"),
      GITHUB_API_URL: "http://127.0.0.1:9",
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    await until(() => stdout.includes("press Ctrl-C to stop"), 90_000);
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect([
      code,
      stdout.includes("keywatch: stopped"),
      existsSync(homePaths(join(home, "cli")).dynamoDbLock),
    ]).toEqual([0, true, false]);
  });
});
