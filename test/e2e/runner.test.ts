import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataFolderInUseError } from "../../bin/local/local-environment.js";
import { type LocalMonitor, PortInUseError, startLocalMonitor } from "../../bin/local/runner.js";
import { homePaths, readLocalSettings } from "../../bin/local/settings.js";

const home = mkdtempSync(join(tmpdir(), "keywatch-runner-"));
const settings = readLocalSettings({ PORT: "0", KEYWATCH_HOME: home });
const lines: string[] = [];
let monitor: LocalMonitor;

beforeAll(async () => {
  monitor = await startLocalMonitor(settings, { log: (line) => lines.push(line), schedulers: false });
});

afterAll(async () => {
  await monitor?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("startLocalMonitor", () => {
  it("serves /healthz on the chosen port", async () => {
    const response = await fetch(`${monitor.url}/healthz`);
    expect(await response.json()).toEqual({ status: "ok", dynamodb: "up" });
  });

  it("keeps DynamoDB Local data under KEYWATCH_HOME and advertises it to CLI commands", () => {
    const paths = homePaths(home);
    expect([existsSync(paths.dynamoDbData), existsSync(paths.dynamoDbLock)]).toEqual([true, true]);
  });

  it("prints the console URL", () => {
    expect(lines).toContain(`keywatch: console at ${monitor.url}/console`);
  });
});

describe("startLocalMonitor on a taken port", () => {
  it("fails with a message naming the port and the PORT setting", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      // Its own data folder: the running monitor's is locked (a second start there is refused first).
      const otherHome = mkdtempSync(join(tmpdir(), "keywatch-runner-port-"));
      const other = readLocalSettings({ PORT: String(port), KEYWATCH_HOME: otherHome });
      const attempt = startLocalMonitor(other, { log: () => {}, schedulers: false });
      await expect(attempt).rejects.toThrow(PortInUseError);
      await expect(attempt).rejects.toThrow(`port ${port} is in use; set PORT=`);
      expect(existsSync(homePaths(otherHome).dynamoDbLock)).toBe(false);
      rmSync(otherHome, { recursive: true, force: true });
    } finally {
      blocker.close();
    }
  });
});

describe("stop", () => {
  it("closes the server and releases DynamoDB Local", async () => {
    const ownHome = mkdtempSync(join(tmpdir(), "keywatch-runner-stop-"));
    const own = await startLocalMonitor(readLocalSettings({ PORT: "0", KEYWATCH_HOME: ownHome }), {
      log: () => {},
      schedulers: false,
    });
    await own.stop();
    await expect(fetch(`${own.url}/healthz`)).rejects.toThrow();
    expect(existsSync(homePaths(ownHome).dynamoDbLock)).toBe(false);
    rmSync(ownHome, { recursive: true, force: true });
  });
});

/** The local address of a listening TCP port, from /proc/net/tcp{,6} (Linux). */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === "0A" && local?.endsWith(`:${hexPort}`)) found.push(local.split(":")[0] as string);
    }
  }
  return found;
}

const LOOPBACK_V4 = "0100007F";
const LOOPBACK_V4_MAPPED = "0000000000000000FFFF00000100007F";

describe("DynamoDB Local (issue 13: reachable from loopback only)", () => {
  it("listens on 127.0.0.1 only, not on every interface", () => {
    const port = Number(new URL(monitor.env.endpoint).port);
    const addresses = listeningAddresses(port);
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.filter((a) => a !== LOOPBACK_V4 && a !== LOOPBACK_V4_MAPPED)).toEqual([]);
  });
});

describe("one DynamoDB Local per data folder (issue 16 item 6)", () => {
  it("a second keywatch start on the same KEYWATCH_HOME is refused while the first runs", async () => {
    const second = startLocalMonitor(settings, { log: () => {}, schedulers: false });
    await expect(second).rejects.toThrow(DataFolderInUseError);
  });
});

describe("supervising DynamoDB Local (issue 16 item 5)", () => {
  it("reports it on /healthz when it dies, restarts it on the same data, and is healthy again", async () => {
    const ownHome = mkdtempSync(join(tmpdir(), "keywatch-runner-supervise-"));
    const log: string[] = [];
    const own = await startLocalMonitor(readLocalSettings({ PORT: "0", KEYWATCH_HOME: ownHome }), {
      log: (line) => log.push(line),
      schedulers: false,
      notifier: false,
    });
    try {
      await own.env.client.send(
        new PutCommand({ TableName: own.env.tables.state, Item: { pk: "survives", sk: "restart" } }),
      );
      process.kill(own.env.dynamoDb?.pid as number, "SIGKILL");
      const during = await fetch(`${own.url}/healthz`);
      expect(during.status).toBe(503);

      const deadline = Date.now() + 90_000;
      let after = await fetch(`${own.url}/healthz`);
      while (after.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        after = await fetch(`${own.url}/healthz`);
      }
      const item = await own.env.client.send(
        new GetCommand({ TableName: own.env.tables.state, Key: { pk: "survives", sk: "restart" } }),
      );
      expect([after.status, item.Item?.pk]).toEqual([200, "survives"]);
      expect(log).toContain("keywatch: DynamoDB Local restarted");
    } finally {
      await own.stop();
      rmSync(ownHome, { recursive: true, force: true });
    }
  });
});

describe("a keywatch start killed with SIGKILL (issue 16 item 6)", () => {
  it("leaves no DynamoDB Local behind, and the next start takes the data folder over", async () => {
    const crashHome = mkdtempSync(join(tmpdir(), "keywatch-runner-kill-"));
    const repo = join(import.meta.dirname, "..", "..");
    const child = spawn(process.execPath, ["--import", "tsx", join(repo, "bin", "keywatch.ts"), "start"], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PORT: "0", KEYWATCH_HOME: crashHome, GITHUB_API_URL: "http://127.0.0.1:9" },
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const deadline = Date.now() + 120_000;
    while (!stdout.includes("press Ctrl-C to stop") && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const lock = JSON.parse(readFileSync(homePaths(crashHome).dynamoDbLock, "utf8")) as { javaPid: number };
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL"); // node only: java is not signalled
    await exited;

    // The launcher's watchdog sees its stdin close and exits on its own.
    const gone = Date.now() + 10_000;
    while (alive(lock.javaPid) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    expect(alive(lock.javaPid)).toBe(false);

    const next = await startLocalMonitor(readLocalSettings({ PORT: "0", KEYWATCH_HOME: crashHome }), {
      log: () => {},
      schedulers: false,
      notifier: false,
    });
    const health = await fetch(`${next.url}/healthz`);
    await next.stop();
    rmSync(crashHome, { recursive: true, force: true });
    expect(health.status).toBe(200);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
