import { describe, expect, it } from "vitest";
import { generateKey, keyHash } from "../../lambdas/domain/key-format.js";
import {
  KeyScanner,
  type ScanFinding,
  type ScanOptions,
  scanBuffer,
} from "../../lambdas/domain/key-scanner.js";
import { zipFixture } from "../support/zip-fixture.js";

function scanChunks(chunks: Buffer[], options: ScanOptions = {}): ScanFinding[] {
  const scanner = new KeyScanner(options);
  const found: ScanFinding[] = [];
  for (const chunk of chunks) found.push(...scanner.push(chunk));
  found.push(...scanner.end());
  return found;
}

function inChunksOf(input: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i += size) chunks.push(input.subarray(i, i + size));
  return chunks;
}

function fileDiff(path: string, lines: string[], eol = "\n"): string {
  const added = lines.filter((line) => !line.startsWith("-")).length;
  const removed = lines.filter((line) => !line.startsWith("+")).length;
  return [
    `diff --git a/${path} b/${path}`,
    "index 1111111..2222222 100644",
    `--- a/${path}`,
    `+++ b/${path}`,
    `@@ -1,${removed} +1,${added} @@`,
    ...lines,
    "",
  ].join(eol);
}

describe("diff mode across chunk boundaries", () => {
  it("finds the same keys, paths and lines wherever the input is split in two", () => {
    const [a, b] = [generateKey(), generateKey()];
    const text = Buffer.from(
      fileDiff("src/a.ts", [" one", `+const a = "${a}";`, "-gone", " two"]) +
        fileDiff("lib/b.ts", [`+${b}`, " tail"]),
    );
    const whole = scanBuffer(text);
    expect(whole.map((f) => [f.path, f.line, f.keyHash])).toEqual([
      ["src/a.ts", 2, keyHash(a)],
      ["lib/b.ts", 1, keyHash(b)],
    ]);

    for (let split = 0; split <= text.length; split++) {
      expect(scanChunks([text.subarray(0, split), text.subarray(split)]), `split at ${split}`).toEqual(whole);
    }
  });

  it("keeps the column of a key on a very long added line (minified bundle) split over many chunks", () => {
    const key = generateKey();
    const before = `var a="é";${"function f(){return 1};".repeat(12_000)}`;
    const text = Buffer.from(fileDiff("dist/app.min.js", [`+${before}"${key}";`]));

    const chunked = scanChunks(inChunksOf(text, 65_536));

    expect(chunked).toMatchObject([{ path: "dist/app.min.js", line: 1, column: [...before].length + 2 }]);
  });
});

describe("binary mode across chunk boundaries", () => {
  it("finds ASCII and UTF-16LE keys of several prefixes wherever the input is split in two", () => {
    const [ascii, wide] = [generateKey("abc_"), generateKey()];
    const input = Buffer.concat([
      Buffer.from([0, 1, 2]),
      Buffer.from(ascii),
      Buffer.from([0, 0xff]),
      Buffer.from(wide, "utf16le"),
      Buffer.from([0, 0]),
    ]);
    const options: ScanOptions = { prefixes: ["smk_", "abc_"], utf16: true, mode: "text" };
    const whole = scanBuffer(input, options);
    expect(whole.map((f) => [f.keyHash, f.encoding])).toEqual([
      [keyHash(ascii), "ascii"],
      [keyHash(wide), "utf16le"],
    ]);

    for (let split = 0; split <= input.length; split++) {
      expect(
        scanChunks([input.subarray(0, split), input.subarray(split)], options),
        `split at ${split}`,
      ).toEqual(whole);
    }
  });
});

describe("reading straight into the scanner's window (pushFrom)", () => {
  it("finds what a whole-buffer scan finds, for short reads and any chunk size", async () => {
    const keys = Array.from({ length: 6 }, () => generateKey());
    const input = Buffer.from(
      fileDiff(
        "src/k.ts",
        keys.map((key, i) => `+${"x".repeat(i * 97)} ${key}`),
      ),
    );
    const whole = scanBuffer(input);
    expect(whole).toHaveLength(keys.length);

    for (const [chunkSize, shortRead] of [
      [1, 1],
      [64, 13],
      [100, 100],
      [4096, 700],
    ] as const) {
      const scanner = new KeyScanner();
      let at = 0;
      // A reader that may return fewer bytes than asked, as pipes and sockets do.
      const read = async (into: Buffer) => {
        const n = Math.min(into.length, shortRead, input.length - at);
        input.copy(into, 0, at, at + n);
        at += n;
        return n;
      };
      const found: ScanFinding[] = [];
      for (
        let batch = await scanner.pushFrom(read, chunkSize);
        batch;
        batch = await scanner.pushFrom(read, chunkSize)
      ) {
        found.push(...batch);
      }
      found.push(...scanner.end());

      expect(found, `chunk ${chunkSize}, reads of ${shortRead}`).toEqual(whole);
    }
  });
});

describe("diff shapes found in the wild", () => {
  it("reads CRLF diffs: the path has no \\r and lines still count", () => {
    const key = generateKey();
    const text = fileDiff("win/app.cs", [" using System;", "", `+var k = "${key}";`], "\r\n");

    expect(scanBuffer(text)).toMatchObject([{ path: "win/app.cs", line: 3, column: 10 }]);
  });

  it("is not confused by '\\ No newline at end of file' before the next file", () => {
    const [a, b] = [generateKey(), generateKey()];
    const first = [
      "diff --git a/a.txt b/a.txt",
      "--- a/a.txt",
      "+++ b/a.txt",
      "@@ -1 +1 @@",
      "-old",
      "\\ No newline at end of file",
      `+${a}`,
      "\\ No newline at end of file",
    ].join("\n");
    const text = `${first}\n${fileDiff("b.txt", [" x", `+${b}`])}`;

    expect(scanBuffer(text).map((f) => [f.path, f.line])).toEqual([
      ["a.txt", 1],
      ["b.txt", 2],
    ]);
  });

  it("unquotes git's C-style quoted paths (spaces, quotes, UTF-8 as octal)", () => {
    const key = generateKey();
    const text = [
      'diff --git "a/docs/caf\\303\\251 \\"menu\\".md" "b/docs/caf\\303\\251 \\"menu\\".md"',
      "new file mode 100644",
      "--- /dev/null",
      '+++ "b/docs/caf\\303\\251 \\"menu\\".md"',
      "@@ -0,0 +1 @@",
      `+${key}`,
      "",
    ].join("\n");

    expect(scanBuffer(text)).toMatchObject([{ path: 'docs/café "menu".md', line: 1 }]);
  });

  it("does not count a key in a hunk header's context, a removed line or a context line", () => {
    const [inHeader, removed, context] = [generateKey(), generateKey(), generateKey()];
    const text = [
      "diff --git a/k.ts b/k.ts",
      "--- a/k.ts",
      "+++ b/k.ts",
      `@@ -1,2 +1,2 @@ const k = "${inHeader}"`,
      `-${removed}`,
      `+fixed`,
      ` ${context}`,
      "",
    ].join("\n");

    expect(scanBuffer(text)).toEqual([]);
  });

  it("survives a truncated diff whose hunk promises more lines than it has", () => {
    const key = generateKey();
    const text = ["--- a/t.txt", "+++ b/t.txt", "@@ -1,500 +1,900 @@", `+${key}`].join("\n");

    expect(scanBuffer(text)).toMatchObject([{ path: "t.txt", line: 1 }]);
  });
});

describe("hostile diff headers", () => {
  it("parses crafted header lines in linear time (thousands of tabs before a stray \\r)", () => {
    // Each +++ line holds 4,080 tabs then "\rx": /\t.*$/ retried at every tab (17 s for 1.2 MB).
    const key = generateKey();
    const block = `--- a/x\n+++ b/${"\t".repeat(4080)}\rx\n@@ -1 +1 @@\n+${key}\n`;
    const diff = `diff --git a/x b/x\n${block.repeat(Math.ceil(1_200_000 / block.length))}`;

    const started = performance.now();
    const found = scanBuffer(diff, { mode: "diff" });
    const seconds = (performance.now() - started) / 1000;

    expect(found.length).toBe(Math.ceil(1_200_000 / block.length));
    // Linear parsing takes ~0.05 s here; the quadratic regex took 17 s. The bound leaves room for a busy CI.
    expect(seconds).toBeLessThan(3);
  });

  it("names the file by what comes before the first tab of its +++ header", () => {
    const key = generateKey();
    const diff = `diff --git a/src/a.ts b/src/a.ts\n--- a/src/a.ts\t2026-01-01\n+++ b/src/a.ts\t2026-01-02 10:00\r00\n@@ -0,0 +1 @@\n+${key}\n`;
    expect(scanBuffer(diff, { mode: "diff" }).map((f) => f.path)).toEqual(["src/a.ts"]);
  });
});

describe("keys compiled into binaries", () => {
  it("finds a key in a WebAssembly data segment", () => {
    const key = generateKey();
    const data = Buffer.from(`\u0001${key}\u0000`, "latin1");
    const segment = Buffer.concat([Buffer.from([1, 0, 0x41, 0, 0x0b, data.length]), data]);
    const wasm = Buffer.concat([
      Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
      Buffer.from([5, 3, 1, 0, 1]),
      Buffer.from([11, segment.length]),
      segment,
    ]);
    // The test's own check that this is a real module (the tsconfig's lib has no WebAssembly values).
    const { WebAssembly: wasmApi } = globalThis as unknown as {
      WebAssembly: { validate(bytes: Uint8Array): boolean };
    };
    expect(wasmApi.validate(wasm)).toBe(true);

    expect(scanBuffer(wasm).map((f) => f.keyHash)).toEqual([keyHash(key)]);
  });

  it("finds a key in a stored (uncompressed) zip entry but not in a deflated one", () => {
    const [stored, deflated] = [generateKey(), generateKey()];
    const zip = zipFixture([
      { name: "res/raw/config.txt", content: Buffer.from(`KEY=${stored}\n`), method: "stored" },
      { name: "classes.dex", content: Buffer.from(`dex\n035\0${deflated}`), method: "deflated" },
    ]);

    // Deflated entries are the CLI's job (bin/scan/zip-entries.ts): the scanner sees raw bytes only.
    expect(scanBuffer(zip).map((f) => f.keyHash)).toEqual([keyHash(stored)]);
  });
});
