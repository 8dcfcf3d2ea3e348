import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { request } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localRoutes } from "../../bin/local/runner.js";
import { escapeUnsafeInJson } from "../../bin/scan/terminal-text.js";
import { scanZipEntries } from "../../bin/scan/zip-entries.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import {
  createLocalHttpServer,
  LOCAL_MAX_BODY_BYTES,
  type Route,
} from "../../lambdas/adapters/local-http.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { generateKey, keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import { scanBuffer } from "../../lambdas/domain/key-scanner.js";
import type { TestTables } from "../support/dynamodb.js";
import { zipFixture } from "../support/zip-fixture.js";
import { dumpTables, reliabilityContext } from "./local-context.js";

/**
 * Attacks on the local HTTP server (issue 13 items 2 and 5), each sent over a real socket to the
 * server `keywatch start` runs, with the routes it serves. None may end the process or leave it
 * unable to answer the next request.
 */

let server: Server;
let port: number;
let t: TestTables;
let incidentId: string;
const logged: string[] = [];
const processFailures: unknown[] = [];
const onProcessFailure = (error: unknown) => processFailures.push(error);

/** Short timeouts so slowloris cases finish in about a second. */
const TIMEOUTS = {
  headersTimeoutMs: 600,
  requestTimeoutMs: 900,
  keepAliveTimeoutMs: 500,
  checkIntervalMs: 100,
};

beforeAll(async () => {
  process.on("uncaughtException", onProcessFailure);
  process.on("unhandledRejection", onProcessFailure);
  const built = await reliabilityContext();
  t = built.t;
  const keys = createKeyRepository(t.client, t.names.keys);
  const issued = await issueKey("proj-hostile", "owner@example.com", { keys, clock: built.ctx.clock });
  const [outcome] = await createFindingRecorder({
    client: t.client,
    tables: t.names,
    clock: built.ctx.clock,
  })([
    {
      keyHash: keyHash(issued.rawKey),
      redacted: redactKey(issued.rawKey),
      source: "github_event",
      location: { url: "https://github.com/octo/demo/blob/abc/config.js" },
      seenAt: new Date().toISOString(),
    },
  ]);
  incidentId = outcome?.incidentId as string;
  const extra: Route[] = [
    {
      method: "GET",
      path: "/test/throws",
      handler: async () => {
        throw new TypeError("handler bug");
      },
    },
    {
      method: "GET",
      path: "/test/slow",
      handler: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        return { statusCode: 200, body: "slow but fine" };
      },
    },
    {
      method: "GET",
      path: "/test/bad-header",
      handler: async () => ({ statusCode: 200, headers: { "x-bad": "line\r\nInjected: 1" }, body: "x" }),
    },
  ];
  server = createLocalHttpServer([...localRoutes(built.ctx), ...extra], {
    timeouts: TIMEOUTS,
    onError: (routeKey, error) => logged.push(`${routeKey}: ${(error as Error).name}`),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  process.off("uncaughtException", onProcessFailure);
  process.off("unhandledRejection", onProcessFailure);
});

interface RawOptions {
  /** Half-close the socket (FIN) after writing. */
  halfClose?: boolean;
  /** Destroy the socket this long after writing, without waiting for an answer. */
  abortAfterMs?: number;
  /** Give up waiting for the server after this long. */
  waitMs?: number;
}

/** Writes raw bytes and collects whatever the server sends until it closes the connection. */
function raw(
  chunks: (string | Buffer)[],
  options: RawOptions = {},
): Promise<{ text: string; closedByServer: boolean; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: Buffer.concat(received).toString("latin1"), closedByServer, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish(false), options.waitMs ?? 5_000);
    socket.on("data", (data) => received.push(data));
    socket.on("end", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    socket.on("connect", () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.halfClose) socket.end();
      if (options.abortAfterMs !== undefined) setTimeout(() => finish(false), options.abortAfterMs);
    });
  });
}

function statusOf(text: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
}

async function get(
  path: string,
  headers: Record<string, string> = {},
  method = "GET",
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function stillServing(): Promise<void> {
  expect((await get("/healthz")).status).toBe(200);
}

async function incidentState(): Promise<string> {
  const incident = await createIncidentRepository(t.client, t.names.incidents).get(incidentId);
  return String((incident as { state?: string } | undefined)?.state);
}

describe("the local server answers malformed requests with a 4xx", () => {
  it("a malformed percent-escape in a path parameter is a 400, not a URIError that ends the process", async () => {
    const response = await get("/api/incidents/%ZZ");
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).message).toMatch(/percent-encoding/);
    await stillServing();
  });

  it("a lone multi-byte escape (%E0%A4) in a path parameter is a 400", async () => {
    expect((await get("/api/incidents/%E0%A4")).status).toBe(400);
    await stillServing();
  });

  it("a request Node cannot parse gets a 400 and the server keeps serving", async () => {
    const { text } = await raw(["GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n"]);
    expect(statusOf(text)).toBe(400);
    await stillServing();
  });
});

describe("the local server survives clients that go away or stall", () => {
  it("a POST aborted mid-body reaches no handler and leaves the server serving", async () => {
    const before = await dumpTables(t);
    await raw(
      [
        `POST /reports HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 5000\r\n\r\n`,
        "text=smk_",
      ],
      { abortAfterMs: 50 },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await stillServing();
    const after = await dumpTables(t);
    expect(after.reports.length).toBe(before.reports.length);
  });

  it("a client that half-closes its socket after the request still gets its answer", async () => {
    const { text } = await raw([`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`], {
      halfClose: true,
    });
    expect(statusOf(text)).toBe(200);
    await stillServing();
  });

  it("a half-closed socket in the middle of a body is answered with a 400 (body incomplete)", async () => {
    const { text } = await raw(
      [`POST /reports HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-length: 100\r\n\r\n`, "text=abc"],
      { halfClose: true },
    );
    // Node may answer 400 itself or close; what matters is no handler ran on a partial body and the server lives.
    expect([0, 400]).toContain(statusOf(text));
    await stillServing();
  });

  it("headers dripped slowly (slowloris) are cut off by the headers timeout", async () => {
    const { closedByServer, ms } = await raw([`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-A: `], {
      waitMs: 5_000,
    });
    expect(closedByServer).toBe(true);
    expect(ms).toBeLessThan(3_000);
    await stillServing();
  });

  it("a body dripped slowly is cut off by the request timeout with a 408", async () => {
    const { text, closedByServer, ms } = await raw(
      [`POST /reports HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-length: 1000\r\n\r\n`, "text="],
      { waitMs: 5_000 },
    );
    expect(closedByServer).toBe(true);
    expect(ms).toBeLessThan(3_000);
    expect([0, 408]).toContain(statusOf(text));
    await stillServing();
  });

  it("a handler slower than the request timeout still answers (the timeouts are for clients)", async () => {
    expect(await get("/test/slow")).toEqual({ status: 200, body: "slow but fine" });
  });

  it("a connection that sends nothing is closed", async () => {
    const { closedByServer } = await raw([], { waitMs: 5_000 });
    expect(closedByServer).toBe(true);
  });
});

describe("the local server refuses oversized bodies before buffering them", () => {
  it("a declared Content-Length over the limit is a 413 without reading the body", async () => {
    const { text } = await raw([
      `POST /reports HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-length: ${LOCAL_MAX_BODY_BYTES + 1}\r\n\r\n`,
    ]);
    expect(statusOf(text)).toBe(413);
    await stillServing();
  });

  it("a chunked body that grows past the limit is a 413", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const chunks: (string | Buffer)[] = [
      `POST /github/secret-scanning HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ntransfer-encoding: chunked\r\n\r\n`,
    ];
    for (let i = 0; i < 11; i++) chunks.push(`${chunk.length.toString(16)}\r\n`, chunk, "\r\n");
    const { text } = await raw(chunks, { waitMs: 5_000 });
    expect(statusOf(text)).toBe(413);
    await stillServing();
  });
});

describe("a handler failure is a 500, never a crash", () => {
  it("a handler that throws answers 500 with no detail", async () => {
    const response = await get("/test/throws");
    expect(response.status).toBe(500);
    expect(response.body).not.toContain("handler bug");
    expect(logged).toContain("GET /test/throws: TypeError");
    await stillServing();
  });

  it("a handler whose answer has an invalid header value answers 500 (no header injection)", async () => {
    const { text } = await raw([`GET /test/bad-header HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`]);
    expect(statusOf(text)).toBe(500);
    expect(text).not.toContain("Injected");
    await stillServing();
  });
});

describe("/api/* answers only its own Host and Origin (DNS rebinding)", () => {
  const action = JSON.stringify({ action: "acknowledge", reason: "triaged from the console page" });

  it("a foreign Host is refused with a 421 that names the allowed hosts", async () => {
    const response = await get("/api/incidents", { host: `rebind.attacker.example:${port}` });
    expect(response.status).toBe(421);
    expect(JSON.parse(response.body).message).toContain(`127.0.0.1:${port}`);
  });

  it("the loopback Host on another port is refused too", async () => {
    expect((await get("/api/incidents", { host: `127.0.0.1:${port + 1}` })).status).toBe(421);
  });

  it("a POST with a foreign Host applies no action", async () => {
    const response = await get(
      `/api/incidents/${incidentId}/actions`,
      { host: `rebind.attacker.example:${port}`, "content-type": "application/json" },
      "POST",
      action,
    );
    expect(response.status).toBe(421);
    expect(await incidentState()).toBe("open");
  });

  it("a POST from a foreign Origin is refused with a 403 and applies no action", async () => {
    const response = await get(
      `/api/incidents/${incidentId}/actions`,
      { origin: "http://attacker.example", "content-type": "application/json" },
      "POST",
      action,
    );
    expect(response.status).toBe(403);
    expect(await incidentState()).toBe("open");
  });

  it("an opaque Origin (null, from a sandboxed frame or file://) is refused", async () => {
    expect((await get("/api/incidents", { origin: "null" })).status).toBe(403);
  });

  it("a cross-site fetch without Origin is refused by Sec-Fetch-Site", async () => {
    expect((await get("/api/incidents", { "sec-fetch-site": "cross-site" })).status).toBe(403);
  });

  it("the console's own page (same Host and Origin) can still act", async () => {
    const response = await get(
      `/api/incidents/${incidentId}/actions`,
      { origin: `http://localhost:${port}`, host: `localhost:${port}`, "content-type": "application/json" },
      "POST",
      action,
    );
    expect(response.status).toBe(200);
    expect(await incidentState()).toBe("acknowledged");
  });

  it("routes outside /api/* keep answering any Host (the form and webhook may sit behind a tunnel)", async () => {
    expect((await get("/healthz", { host: "tunnel.example" })).status).toBe(200);
  });
});

describe("the CLI scanner against hostile input (issue 13 item 10)", () => {
  it("parses a crafted diff's header lines in linear time", () => {
    const key = generateKey();
    const block = `--- a/x\n+++ b/${"\t".repeat(4080)}\rx\n@@ -1 +1 @@\n+${key}\n`;
    const diff = `diff --git a/x b/x\n${block.repeat(300)}`;
    const started = performance.now();
    expect(scanBuffer(diff, { mode: "diff" })).toHaveLength(300);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it("writes a name's control, C1 and bidi characters as \\uXXXX, and the JSON still parses to it", () => {
    const name = "a\u202egnp.js\u009b2J\u001b[31m";
    const line = escapeUnsafeInJson(JSON.stringify({ file: name }));
    expect(
      [...line].filter((c) => (c.codePointAt(0) as number) >= 0x7f && (c.codePointAt(0) as number) <= 0x9f),
    ).toEqual([]);
    expect(line).not.toContain("\u202e");
    expect(JSON.parse(line)).toEqual({ file: name });
  });

  it("keeps walking a zip bomb's later entries and names the ones it could not inflate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "keywatch-hostile-zip-"));
    const archive = join(dir, "bomb.zip");
    const key = generateKey();
    writeFileSync(
      archive,
      zipFixture([
        { name: "bomb.bin", content: Buffer.alloc(2 * 1024 * 1024), method: "deflated" },
        { name: "hidden.txt", content: Buffer.from(key), method: "deflated" },
        { name: "stored.txt", content: Buffer.from(key), method: "stored" },
      ]),
    );
    const found: string[] = [];
    const problems: string[] = [];
    await scanZipEntries(
      archive,
      statSync(archive).size,
      { prefixes: ["smk_"], mode: "text", maxInflated: 1024 * 1024 },
      (entry) => found.push(entry),
      (entry) => problems.push(entry),
    );
    expect({ found, problems }).toEqual({ found: ["stored.txt"], problems: ["bomb.bin", "hidden.txt"] });
  });
});

describe("the process", () => {
  it("saw no uncaught exception or unhandled rejection during the attacks", () => {
    expect(processFailures).toEqual([]);
  });
});
