import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
      const other = readLocalSettings({ PORT: String(port), KEYWATCH_HOME: home });
      const attempt = startLocalMonitor(other, { log: () => {}, schedulers: false });
      await expect(attempt).rejects.toThrow(PortInUseError);
      await expect(attempt).rejects.toThrow(`port ${port} is in use; set PORT=`);
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
