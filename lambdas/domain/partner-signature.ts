import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

/** The headers a delivery carries (lower case, as API Gateway v2 passes them). */
export const KEY_IDENTIFIER_HEADER = "github-public-key-identifier";
export const SIGNATURE_HEADER = "github-public-key-signature";

/** A public key GitHub signs partner alerts with, as listed at /meta/public_keys/secret_scanning. */
export interface PartnerPublicKey {
  keyIdentifier: string;
  /** Parsed once when the list is fetched: verifying then skips PEM parsing. */
  key: KeyObject;
  /** Informational only: rotated (non-current) keys still verify deliveries signed before rotation. */
  isCurrent: boolean;
}

export class InvalidPartnerKeyError extends Error {
  constructor(keyIdentifier: string, options?: { cause?: unknown }) {
    super(`public key ${JSON.stringify(keyIdentifier)} is not an ECDSA P-256 public key`, options);
    this.name = "InvalidPartnerKeyError";
  }
}

/** Parses a PEM public key and insists on ECDSA P-256, the only curve GitHub signs alerts with. */
export function partnerPublicKey(keyIdentifier: string, pem: string, isCurrent: boolean): PartnerPublicKey {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: "pem" });
  } catch (error) {
    throw new InvalidPartnerKeyError(keyIdentifier, { cause: error });
  }
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new InvalidPartnerKeyError(keyIdentifier);
  }
  return { keyIdentifier, key, isCurrent };
}

/** Longest base64 text of a DER ECDSA P-256 signature (72 bytes) we bother decoding. */
const MAX_SIGNATURE_BASE64 = 128;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * True when `signatureBase64` is a base64 DER ECDSA signature by `publicKey` over SHA-256 of
 * exactly `body` (the raw bytes received: a re-serialised body must not verify).
 * Malformed signatures (not base64, not DER, truncated) are simply false, never an exception.
 */
export function verifyPartnerSignature(
  body: Uint8Array,
  signatureBase64: string,
  publicKey: PartnerPublicKey,
): boolean {
  if (signatureBase64.length === 0 || signatureBase64.length > MAX_SIGNATURE_BASE64) return false;
  if (!BASE64.test(signatureBase64) || signatureBase64.length % 4 !== 0) return false;
  const signature = Buffer.from(signatureBase64, "base64");
  try {
    return verify("sha256", body, { key: publicKey.key, dsaEncoding: "der" }, signature);
  } catch {
    // OpenSSL rejects some non-DER inputs by throwing instead of returning false.
    return false;
  }
}

/** Signs a body the way GitHub does (ECDSA P-256, SHA-256, base64 DER): for smoke tests and the stand-in. */
export function signPartnerPayload(body: Uint8Array, privateKey: KeyObject | string): string {
  const key = typeof privateKey === "string" ? createPrivateKey(privateKey) : privateKey;
  return sign("sha256", body, { key, dsaEncoding: "der" }).toString("base64");
}

/** A stable identifier for a local key: SHA-256 hex of its DER public key (GitHub's are 64 hex too). */
export function keyIdentifierOf(publicKey: KeyObject | string): string {
  const key =
    typeof publicKey !== "string" && publicKey.type === "public" ? publicKey : createPublicKey(publicKey);
  return createHash("sha256")
    .update(key.export({ format: "der", type: "spki" }))
    .digest("hex");
}
