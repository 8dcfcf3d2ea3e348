import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { generateKey, keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import { KeyScanner, type ScanFinding, scanBuffer } from "../../lambdas/domain/key-scanner.js";

function scanInChunks(input: Buffer, size: number, options = {}): ScanFinding[] {
  const scanner = new KeyScanner(options);
  const found: ScanFinding[] = [];
  for (let i = 0; i < input.length; i += size) found.push(...scanner.push(input.subarray(i, i + size)));
  found.push(...scanner.end());
  return found;
}

function withBadCheck(key: string): string {
  const last = key.at(-1) === "A" ? "B" : "A";
  return key.slice(0, -1) + last;
}

describe("finding keys in text", () => {
  it("reports hash, redacted form, offset, line and column", () => {
    const key = generateKey();
    const text = `line one\nconst k = "${key}";\n`;

    const [finding, ...rest] = scanBuffer(text);

    expect(rest).toHaveLength(0);
    expect(finding).toMatchObject({
      keyHash: keyHash(key),
      redacted: redactKey(key),
      offset: text.indexOf(key),
      line: 2,
      column: 12,
      encoding: "ascii",
    });
  });

  it("counts columns in code points, not bytes", () => {
    const key = generateKey();
    const [finding] = scanBuffer(`ä€😀 ${key}`);
    expect(finding?.column).toBe(5);
  });

  it("finds a key at the very start and at the very end", () => {
    const a = generateKey();
    const b = generateKey();
    expect(scanBuffer(`${a} ${b}`).map((f) => f.keyHash)).toEqual([keyHash(a), keyHash(b)]);
  });

  it("never puts the raw key in a finding", () => {
    const key = generateKey();
    const [finding] = scanBuffer(`x ${key} y`);
    expect(JSON.stringify(finding)).not.toContain(key.slice(4, 40));
  });
});

describe("rejecting near misses", () => {
  it("ignores a key with a wrong check", () => {
    expect(scanBuffer(`k=${withBadCheck(generateKey())}`)).toEqual([]);
  });

  it("ignores a key inside a longer base62 run (before or after)", () => {
    const key = generateKey();
    expect(scanBuffer(`x${key}`)).toEqual([]);
    expect(scanBuffer(`${key}0`)).toEqual([]);
  });

  it("ignores a truncated key", () => {
    expect(scanBuffer(generateKey().slice(0, -1))).toEqual([]);
  });

  it("accepts non-base62 delimiters such as _ - . / quotes", () => {
    const key = generateKey();
    for (const [l, r] of [
      ["_", "-"],
      [".", "/"],
      ['"', "'"],
      ["=", "\u0000"],
    ]) {
      expect(scanBuffer(`${l}${key}${r}`)).toHaveLength(1);
    }
  });
});

describe("several prefixes", () => {
  it("finds each configured prefix, in offset order", () => {
    const a = generateKey("abc_");
    const s = generateKey("smk_");
    const found = scanBuffer(`${s} ${a} ${generateKey("zzz_")}`, { prefixes: ["abc_", "smk_"] });
    expect(found.map((f) => f.prefix)).toEqual(["smk_", "abc_"]);
  });
});

describe("binary input", () => {
  it("finds a key among NUL bytes and invalid UTF-8", () => {
    const key = generateKey();
    const input = Buffer.concat([
      Buffer.from([0, 0xff, 0xfe, 0xc3]),
      Buffer.from(key),
      Buffer.from([0, 0x80]),
    ]);
    expect(scanBuffer(input).map((f) => f.keyHash)).toEqual([keyHash(key)]);
  });

  it("finds a UTF-16LE key when asked", () => {
    const key = generateKey();
    const input = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(key, "utf16le"), Buffer.from([0, 0])]);
    expect(scanBuffer(input)).toEqual([]);
    expect(scanBuffer(input, { utf16: true })).toMatchObject([
      { keyHash: keyHash(key), encoding: "utf16le" },
    ]);
  });
});

describe("streaming", () => {
  it("finds the same keys whatever the chunk size", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 5 }), (chunk, count) => {
        const keys = Array.from({ length: count }, () => generateKey());
        const text = keys.map((k, i) => `${"filler ".repeat(i * 7)}\n${k}\n`).join("ab");
        const whole = scanBuffer(text, { mode: "text" });
        const chunked = scanInChunks(Buffer.from(text), chunk, { mode: "text" });
        expect(chunked).toEqual(whole);
        expect(whole.map((f) => f.keyHash)).toEqual(keys.map(keyHash));
      }),
      { numRuns: 200 },
    );
  });
});

describe("unified diffs", () => {
  function diffWith(added: string, removed: string): string {
    return [
      "commit 0123456789abcdef0123456789abcdef01234567",
      "Author: A <a@example.com>",
      "",
      `    +not a diff line ${added}`,
      "",
      "diff --git a/src/old.ts b/src/config.ts",
      "index 1111111..2222222 100644",
      "--- a/src/old.ts",
      "+++ b/src/config.ts",
      "@@ -10,3 +20,4 @@ export const x = 1;",
      " context line",
      `-const old = "${removed}";`,
      `+const key = "${added}";`,
      " context",
      " more",
      "",
    ].join("\n");
  }

  it("reports the new file's path and line, for added lines only", () => {
    const added = generateKey();
    const removed = generateKey();

    const found = scanBuffer(diffWith(added, removed));

    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ keyHash: keyHash(added), path: "src/config.ts", line: 21, column: 14 });
  });

  it("gives the same answer in any chunking", () => {
    const text = Buffer.from(diffWith(generateKey(), generateKey()).repeat(40));
    const whole = scanBuffer(text);
    expect(whole).toHaveLength(40);
    for (const size of [1, 7, 64, 100, 4096]) expect(scanInChunks(text, size)).toEqual(whole);
  });

  it("follows several files and hunks, skipping far ahead", () => {
    const key = generateKey();
    const filler = Array.from({ length: 2000 }, (_, i) => ` line ${i}`).join("\n");
    const text = [
      "diff --git a/a.txt b/a.txt",
      "--- a/a.txt",
      "+++ b/a.txt",
      "@@ -1,2000 +1,2000 @@",
      filler,
      "diff --git a/b.txt b/b.txt",
      "--- /dev/null",
      "+++ b/b.txt",
      "@@ -0,0 +1,3 @@",
      "+one",
      "+two",
      `+three ${key}`,
      "",
    ].join("\n");
    expect(scanBuffer(text)).toMatchObject([{ path: "b.txt", line: 3, column: 7 }]);
  });

  it("can be forced to text mode", () => {
    expect(scanBuffer(diffWith(generateKey(), generateKey()), { mode: "text" })).toHaveLength(3);
  });
});

describe("searching from the prefix's rarest byte", () => {
  /** Every delimited, checksum-valid key, found the slow obvious way. */
  function reference(text: string, prefixes: string[]): string[] {
    const found: string[] = [];
    for (const prefix of prefixes) {
      for (let at = text.indexOf(prefix); at !== -1; at = text.indexOf(prefix, at + 1)) {
        const candidate = text.slice(at, at + prefix.length + 38);
        const before = text[at - 1] ?? "";
        const after = text[at + prefix.length + 38] ?? "";
        if (/[0-9A-Za-z]/.test(before) || /[0-9A-Za-z]/.test(after)) continue;
        if (scanBuffer(candidate, { prefixes: [prefix] }).length === 1) found.push(keyHash(candidate));
      }
    }
    return found.sort();
  }

  it("finds exactly the keys a plain search finds, among fragments of the prefix (any split into chunks)", () => {
    const pieces = fc.oneof(
      fc.constantFrom("smk_", "mk_", "k_", "sm", "smk", "_", " ", "\n", "ssss", "kkkk", "stg_", "tg_"),
      fc.string({ maxLength: 12 }),
      fc.constant(null).map(() => generateKey()),
      fc.constant(null).map(() => generateKey("stg_")),
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 60 }), fc.integer({ min: 1, max: 97 }), (parts, chunk) => {
        const text = parts.join("");
        const prefixes = ["smk_", "stg_"];
        const bytes = Buffer.from(text, "utf8");
        const scanner = new KeyScanner({ prefixes, mode: "text" });
        const found: ScanFinding[] = [];
        for (let i = 0; i < bytes.length; i += chunk)
          found.push(...scanner.push(bytes.subarray(i, i + chunk)));
        found.push(...scanner.end());
        expect(found.map((f) => f.keyHash).sort()).toEqual(reference(text, prefixes));
      }),
      { numRuns: 300 },
    );
  });
});
