import { createHash, randomInt } from "node:crypto";
import { crc32 } from "node:zlib";

/** Base62 alphabet in the exact order DESIGN.md fixes: digits, upper case, lower case. */
export const BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const DEFAULT_PREFIX = "smk_";
export const PREFIX_PATTERN = /^[a-z]{2,10}_$/;
export const BODY_LENGTH = 32;
export const CHECK_LENGTH = 6;
/** Longest possible key: a 10-letter prefix, the underscore, body and check. */
export const MAX_KEY_LENGTH = 11 + BODY_LENGTH + CHECK_LENGTH;

export class InvalidPrefixError extends Error {
  constructor(prefix: string) {
    super(`invalid key prefix ${JSON.stringify(prefix)}: expected 2-10 lower-case letters and "_"`);
    this.name = "InvalidPrefixError";
  }
}

export function assertPrefix(prefix: string): string {
  if (!PREFIX_PATTERN.test(prefix)) throw new InvalidPrefixError(prefix);
  return prefix;
}

/** CRC-32 (IEEE) of `prefix + body`, as 6 base62 digits, most significant first. */
export function checkOf(prefixAndBody: string | Uint8Array): string {
  let value = crc32(prefixAndBody);
  const digits = new Array<string>(CHECK_LENGTH);
  for (let i = CHECK_LENGTH - 1; i >= 0; i--) {
    digits[i] = BASE62_ALPHABET[value % 62] as string;
    value = Math.floor(value / 62);
  }
  return digits.join("");
}

export function generateKey(prefix: string = DEFAULT_PREFIX): string {
  assertPrefix(prefix);
  let body = "";
  for (let i = 0; i < BODY_LENGTH; i++) body += BASE62_ALPHABET[randomInt(62)];
  return prefix + body + checkOf(prefix + body);
}

const KEY_SHAPE = /^([a-z]{2,10}_)([0-9A-Za-z]{32})([0-9A-Za-z]{6})$/;

/** True when `candidate` is a whole key whose check digits match; `prefixes` limits the accepted prefixes. */
export function isValidKey(candidate: string, prefixes?: readonly string[]): boolean {
  const match = KEY_SHAPE.exec(candidate);
  if (!match) return false;
  const [, prefix, body, check] = match as unknown as [string, string, string, string];
  if (prefixes && !prefixes.includes(prefix)) return false;
  return checkOf(prefix + body) === check;
}

/** The only identity a key has once issued: lowercase hex SHA-256 of its ASCII text. */
export function keyHash(key: string): string {
  return createHash("sha256").update(key, "latin1").digest("hex");
}

/** The first 16 hex characters of the key hash: the `keyId` the authorizer and access logs carry. */
export function keyIdOf(hash: string): string {
  return hash.slice(0, 16);
}

/** What people see: prefix, first 4 of the body, an ellipsis, last 4 of the key. */
export function redactKey(key: string): string {
  const underscore = key.indexOf("_");
  const prefix = key.slice(0, underscore + 1);
  return `${prefix}${key.slice(underscore + 1, underscore + 5)}…${key.slice(-4)}`;
}

export function prefixOf(key: string): string {
  return key.slice(0, key.indexOf("_") + 1);
}
