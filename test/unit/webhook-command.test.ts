import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CommandIo, run } from "../../bin/commands/webhook.js";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { generateKey } from "../../lambdas/domain/key-format.js";
import { partnerPublicKey, verifyPartnerSignature } from "../../lambdas/domain/partner-signature.js";
import { makeSecretScanningHandler } from "../../lambdas/handlers/secret-scanning.js";

let dir: string;
let payloadFile: string;
let payload: string;

function fakeIo(stdin = "") {
  const out: string[] = [];
  const err: string[] = [];
  const io: CommandIo = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    readStdin: async () => Buffer.from(stdin, "utf8"),
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}

function headersFrom(output: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of output.trim().split("\n")) {
    const at = line.indexOf(": ");
    if (at > 0) headers[line.slice(0, at).toLowerCase()] = line.slice(at + 2);
  }
  return headers;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kw-webhook-"));
  payload = JSON.stringify([{ token: generateKey(), type: "smelter_api_key", url: "", source: "content" }]);
  payloadFile = join(dir, "payload.json");
  writeFileSync(payloadFile, payload);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("keywatch webhook sign --generate-key", () => {
  it("writes a private key only its owner can read, and the public key next to it", async () => {
    const { io } = fakeIo();

    const code = await run(["sign", "--generate-key", join(dir, "key.pem"), payloadFile], io);

    expect({
      code,
      mode: statSync(join(dir, "key.pem")).mode & 0o777,
      pub: readFileSync(join(dir, "key.pem.pub"), "utf8").startsWith("-----BEGIN PUBLIC KEY-----"),
    }).toEqual({ code: 0, mode: 0o600, pub: true });
  });

  it("prints headers whose signature verifies over the file's exact bytes", async () => {
    const { io, stdout } = fakeIo();
    await run(["sign", "--generate-key", join(dir, "key.pem"), payloadFile], io);
    const headers = headersFrom(stdout());
    const key = partnerPublicKey(
      headers["github-public-key-identifier"] as string,
      readFileSync(join(dir, "key.pem.pub"), "utf8"),
      true,
    );

    const ok = verifyPartnerSignature(
      readFileSync(payloadFile),
      headers["github-public-key-signature"] as string,
      key,
    );

    expect(ok).toBe(true);
  });
});

describe("keywatch webhook sign --key-file", () => {
  it("signs stdin with an existing key and the handler accepts it", async () => {
    await run(["sign", "--generate-key", join(dir, "key.pem"), payloadFile], fakeIo().io);
    const { io, stdout } = fakeIo(payload);

    await run(["sign", "--key-file", join(dir, "key.pem"), "--public-keys", "-"], io);
    const [headerLines, keysJson] = [
      stdout().split("\n").slice(0, 2).join("\n"),
      stdout().split("\n")[2] as string,
    ];
    const listed = (JSON.parse(keysJson) as { public_keys: { key_identifier: string; key: string }[] })
      .public_keys[0];
    const handler = makeSecretScanningHandler({
      recordFindings: async (findings) =>
        findings.map((f) => ({
          keyHash: f.keyHash,
          status: "unknown",
          incidentId: "inc",
          newOccurrence: true,
        })),
      publicKeys: {
        keyFor: async (id) =>
          id === listed?.key_identifier ? partnerPublicKey(id, listed.key, true) : undefined,
      },
      prefixes: ["smk_"],
      clock: fixedClock("2025-01-01T00:00:00Z"),
      logger: { info() {}, warn() {}, error() {} },
    });

    const result = await handler({
      headers: headersFrom(headerLines),
      body: payload,
      isBase64Encoded: false,
      requestContext: { requestId: "r" },
    } as unknown as APIGatewayProxyEventV2);

    expect(result.statusCode).toBe(200);
  });

  it("refuses a key that isn't P-256", async () => {
    const rsa = join(dir, "rsa.pem");
    writeFileSync(
      rsa,
      execFileSync("openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], {
        stdio: "pipe",
      }),
    );
    const { io, stderr } = fakeIo();

    const code = await run(["sign", "--key-file", rsa, payloadFile], io);

    expect({ code, message: stderr() }).toEqual({
      code: 2,
      message: expect.stringContaining("not an ECDSA P-256"),
    });
  });
});

describe("keywatch webhook sign --curl", () => {
  it("prints a curl command that posts the file's bytes with both headers", async () => {
    const { io, stdout } = fakeIo();

    await run(
      [
        "sign",
        "--generate-key",
        join(dir, "key.pem"),
        "--curl",
        "http://127.0.0.1:8787/github/secret-scanning",
        payloadFile,
      ],
      io,
    );

    expect(stdout()).toMatch(
      /^curl -sS -X POST 'http:\/\/127\.0\.0\.1:8787\/github\/secret-scanning'[\s\S]*Github-Public-Key-Identifier: [0-9a-f]{64}[\s\S]*Github-Public-Key-Signature: [A-Za-z0-9+/=]+[\s\S]*--data-binary @'/,
    );
  });

  it("quotes an inlined stdin payload for the shell", async () => {
    const { io, stdout } = fakeIo(`[{"token":"it's","type":"t","url":""}]`);

    await run(["sign", "--generate-key", join(dir, "key.pem"), "--curl", "http://x/", "-"], io);

    expect(stdout()).toContain(`--data-binary '[{"token":"it'\\''s","type":"t","url":""}]'`);
  });
});

describe("usage errors", () => {
  it.each([
    [["sign", "payload.json"]],
    [["sign", "--key-file", "a", "--generate-key", "b", "payload.json"]],
    [["verify"]],
    [["sign", "--bogus"]],
  ])("%j exits 2 with usage", async (args) => {
    const { io, stderr } = fakeIo();

    const code = await run(args, io);

    expect({ code, usage: stderr().includes("usage: keywatch webhook sign") }).toEqual({
      code: 2,
      usage: true,
    });
  });
});
