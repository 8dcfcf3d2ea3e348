import { execFileSync, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { scanZipEntries } from "../../bin/scan/zip-entries.js";
import { generateKey, keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import { zipFixture } from "../support/zip-fixture.js";

// Every test starts real processes; on a machine busy with the other test projects that can take seconds.
vi.setConfig({ testTimeout: 30_000 });

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CLI = join(ROOT, "dist", "bin", "keywatch.js");

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function keywatch(
  args: string[],
  options: { input?: string | Buffer; cwd?: string; nodeArgs?: string[] } = {},
): CliResult {
  const result = spawnSync(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], {
    input: options.input ?? "",
    cwd: options.cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The part of a key that only the raw key contains (its redacted form shows prefix, 4 and 4). */
function secretPart(key: string): string {
  return key.slice(8, 38);
}

let work: string;
beforeAll(() => {
  if (!existsSync(CLI) || !existsSync(join(ROOT, "dist", "bin", "commands", "scan.js"))) {
    throw new Error(`${CLI} is missing: run \`npm run build\` first (\`npm test\` builds before testing)`);
  }
  work = mkdtempSync(join(tmpdir(), "keywatch-cli-scan-"));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function freshDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("scan output", () => {
  it("prints one JSON line per key with file, line, column, redacted form and hash", () => {
    const dir = freshDir("output");
    const [a, b] = [generateKey(), generateKey()];
    writeFileSync(join(dir, "config.env"), `# settings\nSMELTER_KEY=${a}\n  other: "${b}"\n`);

    const result = keywatch(["scan", "config.env"], { cwd: dir });

    expect(result.status).toBe(1);
    expect(jsonLines(result.stdout)).toEqual([
      { file: "config.env", line: 2, column: 13, redacted: redactKey(a), keyHash: keyHash(a) },
      { file: "config.env", line: 3, column: 11, redacted: redactKey(b), keyHash: keyHash(b) },
    ]);
  });

  it("exits 0 with no output when only near misses are present", () => {
    const dir = freshDir("clean");
    const key = generateKey();
    const badCheck = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    writeFileSync(join(dir, "a.txt"), `${badCheck}\nx${generateKey()}\n${generateKey()}9\n`);

    const result = keywatch(["scan", join(dir, "a.txt")]);

    expect(result).toMatchObject({ status: 0, stdout: "", stderr: "" });
  });

  it("never prints the raw key, in JSON lines or SARIF", () => {
    const dir = freshDir("no-echo");
    const key = generateKey();
    writeFileSync(join(dir, "leak.ts"), `export const key = "${key}";\n`);

    const json = keywatch(["scan", dir]);
    const sarif = keywatch(["scan", "--format", "sarif", dir]);

    expect(json.status).toBe(1);
    expect(sarif.status).toBe(1);
    for (const output of [json.stdout, json.stderr, sarif.stdout, sarif.stderr]) {
      expect(output).not.toContain(secretPart(key));
    }
  });
});

describe("scan paths", () => {
  it("recurses into directories in name order and skips .git/", () => {
    const dir = freshDir("tree");
    const [top, nested, hidden] = [generateKey(), generateKey(), generateKey()];
    mkdirSync(join(dir, "src", "deep"), { recursive: true });
    mkdirSync(join(dir, ".git"));
    writeFileSync(join(dir, "a.txt"), top);
    writeFileSync(join(dir, "src", "deep", "b.txt"), nested);
    writeFileSync(join(dir, ".git", "config"), hidden);

    const result = keywatch(["scan", "."], { cwd: dir });

    expect(jsonLines(result.stdout).map((f) => [f.file, f.keyHash])).toEqual([
      ["a.txt", keyHash(top)],
      [join("src", "deep", "b.txt"), keyHash(nested)],
    ]);
  });

  it("reports a symbolic-link loop once and still finishes the scan", () => {
    const dir = freshDir("loop");
    const key = generateKey();
    mkdirSync(join(dir, "sub"));
    symlinkSync("..", join(dir, "sub", "up"));
    symlinkSync("self", join(dir, "self"));
    writeFileSync(join(dir, "sub", "k.txt"), key);

    const result = keywatch(["scan", dir]);

    expect(result.status).toBe(1);
    expect(jsonLines(result.stdout)).toHaveLength(1);
    expect(result.stderr).toMatch(/up: directory loop/);
    expect(result.stderr).toMatch(/self: symbolic link loop/);
  });

  it("scans a file once however many names reach it (repeated argument, link, directory)", () => {
    const dir = freshDir("once");
    const key = generateKey();
    writeFileSync(join(dir, "k.txt"), key);
    symlinkSync("k.txt", join(dir, "alias.txt"));

    const result = keywatch(["scan", "k.txt", "k.txt", "alias.txt", "."], { cwd: dir });

    expect(result.status).toBe(1);
    expect(jsonLines(result.stdout).map((f) => f.file)).toEqual(["k.txt"]);
  });

  it("escapes control, C1 and bidi characters of file names in JSON, SARIF and stderr", () => {
    const dir = freshDir("hostile-names");
    const key = generateKey();
    // Shows as "invoicesj.png" with the override; ESC and CSI (0x9B) would drive the terminal.
    const name = "invoice\u202egnp.js\u009b2J\u001b[31m\u2066";
    writeFileSync(join(dir, name), key);
    symlinkSync("nowhere", join(dir, `gone\u202e\u0085`));
    const raw = (text: string) =>
      [...text].filter((c) => {
        const code = c.codePointAt(0) as number;
        return (
          (code < 0x20 && code !== 10) ||
          (code >= 0x7f && code <= 0x9f) ||
          (code >= 0x202a && code <= 0x202e) ||
          (code >= 0x2066 && code <= 0x2069)
        );
      });

    const json = keywatch(["scan", "."], { cwd: dir });
    const sarif = keywatch(["scan", "--format", "sarif", "."], { cwd: dir });

    expect(json.status).toBe(1);
    expect(raw(json.stdout)).toEqual([]);
    expect(raw(json.stderr)).toEqual([]);
    expect(raw(sarif.stdout)).toEqual([]);
    expect(() => JSON.parse(sarif.stdout)).not.toThrow();
    // Escaped as \uXXXX inside JSON strings: a consumer still gets the exact name back.
    expect(jsonLines(json.stdout).map((f) => f.file)).toEqual([name]);
    expect(json.stderr).toContain("\\u202e");
  });

  it("exits 2 with one line on stderr for a missing path", () => {
    const result = keywatch(["scan", join(work, "does-not-exist")]);

    expect(result.status).toBe(2);
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      `keywatch scan: ${join(work, "does-not-exist")}: no such file or directory`,
    ]);
  });

  it("exits 2 for a path that exists but cannot be read (a socket)", async () => {
    const dir = freshDir("socket");
    const socket = join(dir, "s.sock");
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const result = keywatch(["scan", socket]);

      expect(result.status).toBe(2);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain("s.sock");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("walks a tree 2,050 directories deep without a stack overflow and finds the keys in it", () => {
    const dir = freshDir("deep");
    const keys = [generateKey(), generateKey()];
    // Built level by level from inside (chdir + relative mkdir): the full path outgrows PATH_MAX.
    const build = spawnSync(
      process.execPath,
      [
        "-e",
        `const fs = require("node:fs");
         process.chdir(process.argv[1]);
         for (let level = 1; level <= 2050; level++) {
           fs.mkdirSync("d");
           process.chdir("d");
           if (level === 1000) fs.writeFileSync("k.txt", process.argv[2]);
           if (level === 2000) fs.writeFileSync("k.txt", process.argv[3]);
         }`,
        dir,
        ...keys,
      ],
      { encoding: "utf8" },
    );
    expect(build.status, build.stderr).toBe(0);
    try {
      const result = keywatch(["scan", "."], { cwd: dir });

      expect(result.stderr).not.toMatch(/RangeError|Maximum call stack/);
      expect(result.status).toBe(1);
      expect(
        jsonLines(result.stdout)
          .map((f) => f.keyHash)
          .sort(),
      ).toEqual(keys.map(keyHash).sort());
    } finally {
      // GNU rm walks with openat, so it can remove what a path-based rmSync can't reach.
      spawnSync("rm", ["-rf", dir]);
    }
  });

  it("exits 1 when a key is found even if another path failed, and scans the rest", () => {
    const dir = freshDir("partial");
    const key = generateKey();
    writeFileSync(join(dir, "z.txt"), key);

    const result = keywatch(["scan", join(dir, "missing"), join(dir, "z.txt")]);

    expect(result.status).toBe(1);
    expect(jsonLines(result.stdout).map((f) => f.keyHash)).toEqual([keyHash(key)]);
    expect(result.stderr).toContain("missing: no such file or directory");
  });
});

describe("scan binary content", () => {
  it("finds keys among NUL bytes and invalid UTF-8, as ASCII and as UTF-16LE", () => {
    const dir = freshDir("binary");
    const [ascii, wide] = [generateKey(), generateKey()];
    writeFileSync(
      join(dir, "app.bin"),
      Buffer.concat([
        Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0xff, 0xfe, 0xc3, 0x28]),
        Buffer.from(ascii),
        Buffer.from([0, 0xe2, 0x82]),
        Buffer.from(wide, "utf16le"),
        Buffer.from([0, 0]),
      ]),
    );

    const result = keywatch(["scan", join(dir, "app.bin")]);

    expect(result.status).toBe(1);
    expect(jsonLines(result.stdout).map((f) => f.keyHash)).toEqual([keyHash(ascii), keyHash(wide)]);
  });

  it("finds keys in stored and in deflated zip entries (jar, apk, whl), named by entry", () => {
    const dir = freshDir("zip");
    const [stored, deflated] = [generateKey(), generateKey()];
    writeFileSync(
      join(dir, "app.apk"),
      zipFixture([
        // Right after a name ending in a letter: only a per-entry scan sees the key's left edge.
        { name: "res/raw/key", content: Buffer.from(stored), method: "stored" },
        {
          name: "classes.dex",
          content: Buffer.concat([
            Buffer.alloc(5000, 7),
            Buffer.from(`\0${deflated}\0`),
            Buffer.alloc(5000, 9),
          ]),
          method: "deflated",
        },
      ]),
    );

    const result = keywatch(["scan", "app.apk"], { cwd: dir });

    expect(result.status).toBe(1);
    expect(jsonLines(result.stdout).map((f) => [f.file, f.keyHash])).toEqual([
      ["app.apk!res/raw/key", keyHash(stored)],
      ["app.apk!classes.dex", keyHash(deflated)],
    ]);
  });

  it("reports a corrupt zip entry on stderr and still reports the keys it found", () => {
    const dir = freshDir("corrupt-zip");
    const key = generateKey();
    const zip = zipFixture([
      { name: "ok.txt", content: Buffer.from(`k=${key}\n`), method: "stored" },
      { name: "broken.bin", content: Buffer.alloc(4000, 1), method: "deflated" },
    ]);
    const broken = zip.indexOf("broken.bin") + "broken.bin".length;
    zip.fill(0xff, broken, broken + 8);
    writeFileSync(join(dir, "bad.jar"), zip);

    const result = keywatch(["scan", "bad.jar"], { cwd: dir });

    expect(result.status).toBe(1);
    expect(jsonLines(result.stdout).map((f) => f.file)).toEqual(["bad.jar!ok.txt"]);
    expect(result.stderr).toMatch(/bad\.jar!broken\.bin: corrupt entry/);
  });

  it("goes on past a corrupt entry: a key in a later entry is still found", () => {
    const dir = freshDir("corrupt-first");
    const key = generateKey();
    const zip = zipFixture([
      { name: "broken.bin", content: Buffer.alloc(4000, 1), method: "deflated" },
      { name: "later.txt", content: Buffer.from(`k=${key}\n`), method: "deflated" },
    ]);
    const broken = zip.indexOf("broken.bin") + "broken.bin".length;
    zip.fill(0xff, broken, broken + 8);
    writeFileSync(join(dir, "bad.zip"), zip);

    const result = keywatch(["scan", "bad.zip"], { cwd: dir });

    expect(result.status).toBe(1);
    expect(jsonLines(result.stdout).map((f) => f.file)).toEqual(["bad.zip!later.txt"]);
    expect(result.stderr).toMatch(/bad\.zip!broken\.bin: corrupt entry/);
  });

  it("scans on past the per-archive inflate limit and names every entry it cut short or left uninflated", async () => {
    const dir = freshDir("zip-limit");
    const keys = [generateKey(), generateKey(), generateKey()];
    const archive = join(dir, "bomb.zip");
    writeFileSync(
      archive,
      zipFixture([
        { name: "early.txt", content: Buffer.from(`${keys[0]}\n`), method: "deflated" },
        // 4 MiB of zeros deflate to ~4 KiB: a small zip bomb against a 1 MiB limit.
        { name: "bomb.bin", content: Buffer.alloc(4 * 1024 * 1024), method: "deflated" },
        { name: "after.txt", content: Buffer.from(`${keys[1]}\n`), method: "deflated" },
        { name: "stored.txt", content: Buffer.from(`${keys[2]}\n`), method: "stored" },
      ]),
    );
    const found: [string, string][] = [];
    const problems: [string, string][] = [];

    await scanZipEntries(
      archive,
      statSync(archive).size,
      { prefixes: ["smk_"], mode: "text", maxInflated: 1024 * 1024 },
      (entry, finding) => found.push([entry, finding.keyHash]),
      (entry, message) => problems.push([entry, message]),
    );

    expect(found).toEqual([
      ["early.txt", keyHash(keys[0] as string)],
      ["stored.txt", keyHash(keys[2] as string)],
    ]);
    expect(problems.map(([entry]) => entry)).toEqual(["bomb.bin", "after.txt"]);
    expect(problems[0]?.[1]).toMatch(/only its first 1 MiB scanned/);
    expect(problems[1]?.[1]).toMatch(/^not scanned: .* inflate past 1 MiB/);
  });

  it("streams a 2 GB sparse file with a key near its end in bounded memory", () => {
    const file = join(work, "huge.bin");
    const key = generateKey();
    const size = 2 * 1024 * 1024 * 1024;
    const fd = openSync(file, "w");
    ftruncateSync(fd, size);
    writeSync(fd, Buffer.from(`\nkey=${key}\n`), 0, key.length + 6, size - 200);
    closeSync(fd);
    const preload = join(work, "max-rss.mjs");
    writeFileSync(
      preload,
      'process.on("exit", () => process.stderr.write("maxRSS=" + process.resourceUsage().maxRSS + "\\n"));\n',
    );

    const result = keywatch(["scan", file], { nodeArgs: ["--import", preload] });
    rmSync(file);

    expect(result.status).toBe(1);
    expect(jsonLines(result.stdout)).toMatchObject([{ keyHash: keyHash(key), line: 2, column: 5 }]);
    const maxRssKb = Number(/maxRSS=(\d+)/.exec(result.stderr)?.[1]);
    expect(maxRssKb).toBeLessThan(256 * 1024);
  }, 180_000);
});

describe("scan stdin", () => {
  const diff = (key: string) =>
    [
      "diff --git a/src/config.ts b/src/config.ts",
      "index 1111111..2222222 100644",
      "--- a/src/config.ts",
      "+++ b/src/config.ts",
      "@@ -7,2 +7,3 @@ export const config = {",
      "   region: 'eu',",
      `+  apiKey: "${key}",`,
      " };",
      "",
    ].join("\n");

  it("reads a diff from - and names the diffed file and its new line", () => {
    const key = generateKey();

    const result = keywatch(["scan", "-"], { input: diff(key) });

    expect(result.status).toBe(1);
    expect(jsonLines(result.stdout)).toEqual([
      { file: "src/config.ts", line: 8, column: 12, redacted: redactKey(key), keyHash: keyHash(key) },
    ]);
  });

  it("reads stdin when no PATH is given; plain text is reported as -", () => {
    const key = generateKey();

    const result = keywatch(["scan"], { input: `hello\n${key}\n` });

    expect(jsonLines(result.stdout)).toMatchObject([{ file: "-", line: 2, column: 1 }]);
  });

  it("treats an empty stdin as nothing to scan: exit 0, no output", () => {
    expect(keywatch(["scan", "-"], { input: "" })).toMatchObject({ status: 0, stdout: "", stderr: "" });
  });
});

describe("scan options", () => {
  it("looks only for the prefixes given with repeated --prefix", () => {
    const dir = freshDir("prefixes");
    const [abc, xyz, smk] = [generateKey("abc_"), generateKey("xyz_"), generateKey()];
    writeFileSync(join(dir, "k.txt"), `${abc}\n${xyz}\n${smk}\n`);

    const result = keywatch(["scan", "--prefix", "abc_", "--prefix", "xyz_", join(dir, "k.txt")]);

    expect(jsonLines(result.stdout).map((f) => f.keyHash)).toEqual([keyHash(abc), keyHash(xyz)]);
  });

  it.each([
    [["--format", "xml"], /--format must be/],
    [["--prefix", "SMK_"], /--prefix "SMK_"/],
    [["--no-such-option"], /Unknown option/],
  ])("rejects %j with exit 2 and a one-line message", (args, message) => {
    const result = keywatch(["scan", ...args, "."]);

    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });
});

/** The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) a consumer relies on. */
const SARIF_REQUIRED = {
  type: "object",
  required: ["version", "runs"],
  properties: {
    version: { const: "2.1.0" },
    $schema: { type: "string", format: "uri" },
    runs: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["tool"],
        properties: {
          tool: {
            type: "object",
            required: ["driver"],
            properties: {
              driver: {
                type: "object",
                required: ["name"],
                properties: {
                  name: { type: "string" },
                  rules: { type: "array", items: { type: "object", required: ["id"] } },
                },
              },
            },
          },
          results: {
            type: "array",
            items: {
              type: "object",
              required: ["message", "ruleId", "level", "locations", "partialFingerprints"],
              properties: {
                message: { type: "object", required: ["text"] },
                level: { enum: ["none", "note", "warning", "error"] },
                locations: {
                  type: "array",
                  minItems: 1,
                  items: {
                    type: "object",
                    required: ["physicalLocation"],
                    properties: {
                      physicalLocation: {
                        type: "object",
                        required: ["artifactLocation", "region"],
                        properties: {
                          artifactLocation: {
                            type: "object",
                            required: ["uri"],
                            properties: { uri: { type: "string", format: "uri-reference" } },
                          },
                          region: {
                            type: "object",
                            required: ["startLine", "startColumn"],
                            properties: {
                              startLine: { type: "integer", minimum: 1 },
                              startColumn: { type: "integer", minimum: 1 },
                            },
                          },
                        },
                      },
                    },
                  },
                },
                partialFingerprints: { type: "object", additionalProperties: { type: "string" } },
              },
            },
          },
        },
      },
    },
  },
};

describe("scan --format sarif", () => {
  it("prints one SARIF 2.1.0 log with rule, level, location and the key hash as fingerprint", () => {
    const dir = freshDir("sarif dir");
    const key = generateKey();
    writeFileSync(join(dir, "main file.ts"), `\n\nconst k = "${key}";\n`);
    const ajv = new Ajv.default({ allErrors: true, strict: false });
    addFormats.default(ajv);

    const result = keywatch(["scan", "--format", "sarif", "main file.ts"], { cwd: dir });
    const log = JSON.parse(result.stdout) as {
      runs: { tool: { driver: { rules: { id: string }[] } }; results: Record<string, unknown>[] }[];
    };

    expect(result.status).toBe(1);
    expect(ajv.validate(SARIF_REQUIRED, log), ajv.errorsText()).toBe(true);
    const [run] = log.runs;
    expect(run?.results).toMatchObject([
      {
        ruleId: run?.tool.driver.rules[0]?.id,
        level: "error",
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: "main%20file.ts" },
              region: { startLine: 3, startColumn: 12 },
            },
          },
        ],
        partialFingerprints: { "keyHash/v1": keyHash(key) },
      },
    ]);
  });

  it("prints a valid log with no results when there are no keys", () => {
    const result = keywatch(["scan", "--format", "sarif", "-"], { input: "nothing here\n" });

    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ version: "2.1.0", runs: [{ results: [] }] });
  });
});

describe("start-up time", () => {
  function medianMs(run: () => void): number {
    run();
    const times: number[] = [];
    for (let i = 0; i < 9; i++) {
      const start = process.hrtime.bigint();
      run();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return times.sort((a, b) => a - b)[4] as number;
  }

  it("answers keywatch --version in under 150 ms, or twice bare node start-up on a saturated machine (medians of 9)", () => {
    const version = medianMs(() => expect(keywatch(["--version"]).stdout).toMatch(/^\d+\.\d+\.\d+\n$/));
    const bareNode = medianMs(() => spawnSync(process.execPath, ["-e", "0"]));

    // On a machine so busy that bare `node` alone is slow (parallel test projects), every start
    // slows alike: then the budget is twice bare node's start, which a TypeScript runtime (~10x)
    // or an AWS SDK import (~5x) still exceeds.
    const budget = Math.max(150, bareNode * 2);
    expect(version, `keywatch --version ${version} ms; bare node ${bareNode} ms`).toBeLessThan(budget);
  }, 60_000);
});

describe("git pre-commit hook", () => {
  function git(repo: string, ...args: string[]): void {
    execFileSync("git", args, { cwd: repo, stdio: "ignore" });
  }
  function hook(repo: string): CliResult {
    const result = spawnSync("sh", ["-c", `git diff --cached | "${process.execPath}" "${CLI}" scan -`], {
      cwd: repo,
      encoding: "utf8",
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it("README's hook, installed as written, blocks a commit with a key through the installed bin", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const script = /cat > \.git\/hooks\/pre-commit <<'HOOK'\n([\s\S]*?)\nHOOK\n/.exec(readme)?.[1];
    expect(script).toBeDefined();
    // Only its comment may mention npx: no command line runs it.
    expect(script).not.toMatch(/^[^#\n]*\bnpx\b/m);
    const repo = freshDir("readme-hook");
    git(repo, "init", "-q");
    git(repo, "config", "user.email", "dev@example.invalid");
    git(repo, "config", "user.name", "Dev");
    // What npm install leaves: an executable keywatch in node_modules/.bin.
    mkdirSync(join(repo, "node_modules", ".bin"), { recursive: true });
    writeFileSync(
      join(repo, "node_modules", ".bin", "keywatch"),
      `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`,
      {
        mode: 0o755,
      },
    );
    writeFileSync(join(repo, ".gitignore"), "node_modules/\n");
    writeFileSync(join(repo, ".git", "hooks", "pre-commit"), `${script}\n`, { mode: 0o755 });
    writeFileSync(join(repo, "app.ts"), `export const key = "${generateKey()}";\n`);
    git(repo, "add", "app.ts", ".gitignore");

    const blocked = spawnSync("git", ["commit", "-q", "-m", "leak"], { cwd: repo, encoding: "utf8" });
    writeFileSync(join(repo, "app.ts"), "export const key = process.env.KEY;\n");
    git(repo, "add", "app.ts");
    const clean = spawnSync("git", ["commit", "-q", "-m", "clean"], { cwd: repo, encoding: "utf8" });

    expect(blocked.status).not.toBe(0);
    expect(blocked.stderr).toContain("contain a Smelter API key");
    expect(clean.status).toBe(0);
  });

  it("blocks a commit whose staged diff adds a key, and lets a clean one through", () => {
    const repo = freshDir("repo");
    git(repo, "init", "-q");
    git(repo, "config", "user.email", "dev@example.invalid");
    git(repo, "config", "user.name", "Dev");
    writeFileSync(join(repo, "app.ts"), "export const a = 1;\n");
    git(repo, "add", "app.ts");
    git(repo, "commit", "-q", "-m", "init");
    const key = generateKey();
    writeFileSync(join(repo, "app.ts"), `export const a = 1;\nexport const key = "${key}";\n`);
    git(repo, "add", "app.ts");

    const blocked = hook(repo);
    writeFileSync(join(repo, "app.ts"), "export const a = 2;\n");
    git(repo, "add", "app.ts");
    const clean = hook(repo);

    expect(blocked.status).toBe(1);
    expect(jsonLines(blocked.stdout)).toEqual([
      { file: "app.ts", line: 2, column: 21, redacted: redactKey(key), keyHash: keyHash(key) },
    ]);
    expect(clean).toMatchObject({ status: 0, stdout: "" });
  });
});
