import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { keyIdentifierOf, signPartnerPayload } from "../../lambdas/domain/partner-signature.js";

/** A P-256 key pair generated in the test, standing in for one of GitHub's signing keys. */
export interface TestSigningKey {
  keyIdentifier: string;
  privateKey: KeyObject;
  publicKeyPem: string;
  sign(body: Uint8Array | string): string;
}

export function generateSigningKey(): TestSigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    keyIdentifier: keyIdentifierOf(publicKey),
    privateKey,
    publicKeyPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    sign: (body) =>
      signPartnerPayload(typeof body === "string" ? Buffer.from(body, "utf8") : body, privateKey),
  };
}

export interface PublishedKey {
  key_identifier: string;
  key: string;
  is_current: boolean;
}

export function published(key: TestSigningKey, isCurrent = true): PublishedKey {
  return { key_identifier: key.keyIdentifier, key: key.publicKeyPem, is_current: isCurrent };
}

/**
 * A tiny HTTP server playing GitHub's `GET /meta/public_keys/secret_scanning`: serves a list the
 * test changes at will, counts requests, and can fail or hang the next answers.
 */
export interface KeysServer {
  url: string;
  keys: PublishedKey[];
  requests: number;
  lastHeaders?: IncomingHttpHeaders;
  /** Status codes to answer with before serving the list again (e.g. [500, 503]). */
  failNext: number[];
  /** Answers to leave hanging (never responded). */
  hangNext: number;
  close(): Promise<void>;
}

export async function startKeysServer(keys: PublishedKey[] = []): Promise<KeysServer> {
  const state: Omit<KeysServer, "url" | "close"> = { keys, requests: 0, failNext: [], hangNext: 0 };
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/meta/public_keys/secret_scanning") {
      res.writeHead(404).end();
      return;
    }
    state.requests++;
    state.lastHeaders = req.headers;
    if (state.hangNext > 0) {
      state.hangNext--;
      return;
    }
    const status = state.failNext.shift();
    if (status !== undefined) {
      res.writeHead(status, { "content-type": "application/json" }).end('{"message":"failure"}');
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ public_keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
