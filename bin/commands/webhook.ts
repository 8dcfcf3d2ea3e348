import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  KEY_IDENTIFIER_HEADER,
  keyIdentifierOf,
  SIGNATURE_HEADER,
  signPartnerPayload,
} from "../../lambdas/domain/partner-signature.js";

const USAGE = `usage: keywatch webhook sign (--key-file PEM | --generate-key OUT) [--key-id ID] [--curl URL] [--public-keys] [FILE|-]

Signs a secret-scanning payload the way GitHub does (ECDSA P-256, SHA-256, base64 DER) with a
local key, and prints the two headers (or, with --curl URL, a ready curl command).
  --key-file PEM       private key (PEM, P-256) to sign with
  --generate-key OUT   make a new P-256 key: private key to OUT (mode 600), public key to OUT.pub
  --key-id ID          identifier to send (default: sha256 of the public key, like GitHub's)
  --curl URL           print a curl command posting the exact signed bytes to URL
  --public-keys        also print the /meta/public_keys/secret_scanning JSON that lists this key
  FILE|-               the payload (a JSON array of {token,type,url,source}); default: stdin`;

export class WebhookUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookUsageError";
  }
}

export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  readStdin(): Promise<Buffer>;
}

const processIo: CommandIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  },
};

/** Single-quotes a word for POSIX shells. */
const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

function parse(args: string[]) {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "key-file": { type: "string" },
      "generate-key": { type: "string" },
      "key-id": { type: "string" },
      curl: { type: "string" },
      "public-keys": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return { help: true as const };
  const [action, input, ...extra] = positionals;
  if (action !== "sign") throw new WebhookUsageError("expected `sign`");
  if (extra.length > 0) throw new WebhookUsageError("one payload file at most");
  if (!values["key-file"] === !values["generate-key"]) {
    throw new WebhookUsageError("give exactly one of --key-file and --generate-key");
  }
  if (values.curl !== undefined && !URL.canParse(values.curl))
    throw new WebhookUsageError("--curl needs a URL");
  return {
    help: false as const,
    keyFile: values["key-file"],
    generateKey: values["generate-key"],
    keyId: values["key-id"],
    curl: values.curl,
    publicKeys: values["public-keys"] ?? false,
    input: input ?? "-",
  };
}

function loadKey(options: { keyFile?: string | undefined; generateKey?: string | undefined }, io: CommandIo) {
  if (options.generateKey) {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    writeFileSync(options.generateKey, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });
    writeFileSync(`${options.generateKey}.pub`, publicKey.export({ format: "pem", type: "spki" }));
    io.stderr.write(
      `keywatch webhook: new P-256 key in ${options.generateKey} (public: ${options.generateKey}.pub)\n`,
    );
    return privateKey;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(options.keyFile as string));
  } catch (error) {
    throw new WebhookUsageError(
      `cannot read a private key from ${options.keyFile}: ${(error as Error).message}`,
    );
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new WebhookUsageError(`${options.keyFile} is not an ECDSA P-256 private key`);
  }
  return key;
}

/** `keywatch webhook sign`: signs a payload with a local P-256 key so operators can smoke-test the endpoint. */
export async function run(args: string[], io: CommandIo = processIo): Promise<number> {
  try {
    const options = parse(args);
    if (options.help) {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    const privateKey = loadKey(options, io);
    const body = options.input === "-" ? await io.readStdin() : readFileSync(options.input);
    const publicPem = createPublicPem(privateKey);
    const keyId = options.keyId ?? keyIdentifierOf(privateKey);
    const signature = signPartnerPayload(body, privateKey);
    if (options.curl) {
      const data =
        options.input === "-"
          ? `--data-binary ${shellQuote(body.toString("utf8"))}`
          : `--data-binary @${shellQuote(options.input)}`;
      if (options.input === "-" && !Buffer.from(body.toString("utf8"), "utf8").equals(body)) {
        throw new WebhookUsageError("a non-UTF-8 payload can't be inlined in a command: pass it as FILE");
      }
      const lines = [
        `curl -sS -X POST ${shellQuote(options.curl)}`,
        `-H ${shellQuote("Content-Type: application/json")}`,
        `-H ${shellQuote(`Github-Public-Key-Identifier: ${keyId}`)}`,
        `-H ${shellQuote(`Github-Public-Key-Signature: ${signature}`)}`,
        data,
      ];
      io.stdout.write(`${lines.join(" \\\n  ")}\n`);
    } else {
      io.stdout.write(
        `${headerName(KEY_IDENTIFIER_HEADER)}: ${keyId}\n${headerName(SIGNATURE_HEADER)}: ${signature}\n`,
      );
    }
    if (options.publicKeys) {
      io.stdout.write(
        `${JSON.stringify({ public_keys: [{ key_identifier: keyId, key: publicPem, is_current: true }] })}\n`,
      );
    }
    return 0;
  } catch (error) {
    if (
      error instanceof WebhookUsageError ||
      (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      io.stderr.write(`keywatch webhook: ${(error as Error).message}\n${USAGE}\n`);
      return 2;
    }
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      io.stderr.write(`keywatch webhook: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}

function createPublicPem(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ format: "pem", type: "spki" }).toString();
}

/** `github-public-key-signature` → `Github-Public-Key-Signature`, as GitHub's docs write it. */
function headerName(lower: string): string {
  return lower.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}
