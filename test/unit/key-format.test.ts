import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BASE62_ALPHABET,
  checkOf,
  generateKey,
  isValidKey,
  keyHash,
  keyIdOf,
  redactKey,
} from "../../lambdas/domain/key-format.js";

const EXAMPLE_KEY = "smk_0123456789abcdefghijABCDEFGHIJxy2lS9Qx";

describe("DESIGN.md example key", () => {
  it("has the documented check digits", () => {
    expect(checkOf("smk_0123456789abcdefghijABCDEFGHIJxy")).toBe("2lS9Qx");
  });

  it("validates", () => {
    expect(isValidKey(EXAMPLE_KEY)).toBe(true);
  });

  it("redacts to prefix, first 4 of the body and last 4 of the key", () => {
    expect(redactKey(EXAMPLE_KEY)).toBe("smk_0123…S9Qx");
  });

  it("hashes to lowercase sha256 hex", () => {
    expect(keyHash(EXAMPLE_KEY)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyIdOf(keyHash(EXAMPLE_KEY))).toHaveLength(16);
  });
});

describe("generated keys", () => {
  it("always validate, for any allowed prefix", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{2,10}_$/), (prefix) => {
        const key = generateKey(prefix);
        return key.length === prefix.length + 38 && isValidKey(key) && isValidKey(key, [prefix]);
      }),
      { numRuns: 500 },
    );
  });

  it("use only the base62 alphabet in body and check", () => {
    const key = generateKey();
    for (const c of key.slice(4)) expect(BASE62_ALPHABET).toContain(c);
  });

  it("reject a prefix that is not allowed by the caller", () => {
    expect(isValidKey(generateKey("abc_"), ["smk_"])).toBe(false);
  });

  it("refuse an invalid prefix", () => {
    expect(() => generateKey("SMK_")).toThrow(/invalid key prefix/);
  });
});

describe("single-character changes", () => {
  it("fail the check (CRC-32 detects every single-symbol error in the body)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 41 }), fc.integer({ min: 1, max: 61 }), (position, shift) => {
        const key = generateKey();
        const original = BASE62_ALPHABET.indexOf(key[position] as string);
        const replaced = BASE62_ALPHABET[(original + shift) % 62] as string;
        const mutated = key.slice(0, position) + replaced + key.slice(position + 1);
        return !isValidKey(mutated);
      }),
      { numRuns: 2000 },
    );
  });

  it("to a wrong length fail", () => {
    const key = generateKey();
    expect(isValidKey(key.slice(0, -1))).toBe(false);
    expect(isValidKey(`${key}0`)).toBe(false);
  });
});
