/**
 * Scanner benchmark: in-process scan (text and diff mode) vs ripgrep vs secretlint on real diffs
 * with planted keys and near-miss decoys; then the whole `keywatch scan` process vs `rg` on 96 MiB
 * of real JavaScript with 200 planted keys.
 * Run: npm run bench:scan   (needs `npm run build` for the process comparison, and `rg`)
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  type Dirent,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { checkOf, generateKey, keyHash } from "../lambdas/domain/key-format.js";
import { scanBuffer } from "../lambdas/domain/key-scanner.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** The shared corpus sits beside the checkout (/work/main) or two levels up from a worktree (/work/wt/x). */
const CORPUS =
  [join(ROOT, "..", "shared"), join(ROOT, "..", "..", "shared")]
    .map((dir) => join(dir, "corpus", "smelter-history.patch.gz"))
    .find((path) => existsSync(path)) ?? join(ROOT, "..", "shared", "corpus", "smelter-history.patch.gz");
const PATTERN = "\\bsmk_[0-9A-Za-z]{38}\\b";
const PLANTED = 200;
const RUNS = 7;
const SECRETLINT_SLICE = 2 * 1024 * 1024;
const JS_CORPUS_BYTES = 96 * 1024 * 1024;
/** The prefix pattern ripgrep gets in the process comparison (no \\b: its Unicode word boundary costs rg 4x). */
const PREFIX_PATTERN = "smk_[0-9A-Za-z]{38}";

function loadCorpus(): { text: Buffer; source: string } {
  if (existsSync(CORPUS))
    return { text: gunzipSync(readFileSync(CORPUS)), source: "shared/corpus/smelter-history.patch.gz" };
  // CI may lack ../shared: fall back to large real text shipped in installed packages.
  const dir = join(ROOT, "node_modules", "typescript", "lib");
  const parts = readdirSync(dir)
    .filter((name) => name.endsWith(".js") || name.endsWith(".d.ts"))
    .map((name) => readFileSync(join(dir, name)));
  return {
    text: Buffer.concat(parts).subarray(0, 24 * 1024 * 1024),
    source: "node_modules/typescript/lib (fallback)",
  };
}

/** Near misses a real scanner must not report. */
function decoys(): string[] {
  const key = generateKey();
  const body31 = key.slice(4, 35);
  const wrongCheck = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
  return [
    wrongCheck, // right shape, bad checksum
    `smk_${body31}${checkOf(`smk_${body31}`)}`, // one character short, its own valid check
    `x${generateKey()}`, // inside a longer base62 run (before)
    `${generateKey()}Q`, // inside a longer base62 run (after)
    generateKey("abc_"), // another deployment's prefix
  ];
}

/** Appends planted tokens to the ends of added lines, so hunk line counts stay right. */
function plant(corpus: Buffer): { text: Buffer; keys: Set<string>; decoyCount: number } {
  const text = corpus.toString("latin1");
  const addedLines: number[] = [];
  for (let at = text.indexOf("\n+"); at !== -1; at = text.indexOf("\n+", at + 2)) {
    if (!text.startsWith("\n+++", at)) addedLines.push(text.indexOf("\n", at + 1));
  }
  const slots = PLANTED * 2;
  const step = Math.floor(addedLines.length / slots);
  const keys = new Set<string>();
  const inserts = new Map<number, string>();
  let decoyCount = 0;
  for (let i = 0; i < slots; i++) {
    const end = addedLines[i * step] as number;
    if (i % 2 === 0) {
      const key = generateKey();
      keys.add(keyHash(key));
      inserts.set(end, ` "${key}"`);
    } else {
      const batch = decoys();
      decoyCount += batch.length;
      inserts.set(end, ` ${batch.join(" ")}`);
    }
  }
  let out = "";
  let last = 0;
  for (const [end, insert] of [...inserts].sort((a, b) => a[0] - b[0])) {
    out += text.slice(last, end) + insert;
    last = end;
  }
  out += text.slice(last);
  return { text: Buffer.from(out, "latin1"), keys, decoyCount };
}

function best(run: () => void, runs = RUNS): number {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    run();
    fastest = Math.min(fastest, Number(process.hrtime.bigint() - start) / 1e9);
  }
  return fastest;
}

const mbps = (bytes: number, seconds: number) => (bytes / 1e6 / seconds).toFixed(0);

function score(foundHashes: string[], planted: Set<string>) {
  const hits = new Set(foundHashes.filter((hash) => planted.has(hash)));
  return {
    recall: `${((hits.size / planted.size) * 100).toFixed(1)}%`,
    falsePositives: foundHashes.filter((hash) => !planted.has(hash)).length,
  };
}

function tool(name: string, args: string[]): string | undefined {
  const result = spawnSync(name, args, { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim().split("\n")[0] : undefined;
}

const rows: Record<string, string | number>[] = [];
const { text: corpus, source } = loadCorpus();
const { text, keys, decoyCount } = plant(corpus);
const work = mkdtempSync(join(tmpdir(), "keywatch-bench-"));
// Removed however the run ends (a tool's output may fail to parse).
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
const corpusFile = join(work, "corpus.patch");
writeFileSync(corpusFile, text);

console.log("machine:", {
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  node: process.version,
  ripgrep: tool("rg", ["--version"]) ?? "absent",
  // Figures from a machine busy with other work are not comparable: the load is printed with them.
  loadAverage1m: loadavg()[0]?.toFixed(2),
});
console.log("corpus:", { source, bytes: text.length, plantedKeys: keys.size, decoys: decoyCount });

for (const mode of ["text", "diff"] as const) {
  let found: string[] = [];
  const seconds = best(() => {
    found = scanBuffer(text, { mode }).map((finding) => finding.keyHash);
  });
  rows.push({
    tool: `keywatch in-process (${mode} mode)`,
    bytes: text.length,
    "MB/s": mbps(text.length, seconds),
    ...score(found, keys),
  });
}

function rgMatches(file: string): string[] {
  const out = execFileSync("rg", ["-j1", "--no-mmap", "-o", "-N", "--no-filename", PATTERN, file], {
    encoding: "latin1",
    maxBuffer: 1 << 30,
  });
  return out.split("\n").filter(Boolean);
}

if (tool("rg", ["--version"])) {
  let found: string[] = [];
  const seconds = best(() => {
    found = rgMatches(corpusFile).map(keyHash);
  });
  rows.push({
    tool: "ripgrep -j1 --no-mmap (process)",
    bytes: text.length,
    "MB/s": mbps(text.length, seconds),
    ...score(found, keys),
  });
}

const secretlintBin = join(ROOT, "node_modules", ".bin", "secretlint");
if (existsSync(secretlintBin)) {
  // secretlint is orders of magnitude slower: it runs on a slice (same planted density).
  const sliceEnd = text.indexOf(10, SECRETLINT_SLICE) + 1;
  const slice = text.subarray(0, sliceEnd);
  const sliceFile = join(work, "slice.patch");
  writeFileSync(sliceFile, slice);
  const sliceKeys = new Set(
    scanBuffer(slice, { mode: "text" })
      .map((f) => f.keyHash)
      .filter((h) => keys.has(h)),
  );
  const config = join(work, ".secretlintrc.json");
  writeFileSync(
    config,
    JSON.stringify({
      rules: [
        {
          id: "@secretlint/secretlint-rule-pattern",
          options: { patterns: [{ name: "smelter key", patterns: [`/${PATTERN}/`] }] },
        },
      ],
    }),
  );
  let found: string[] = [];
  const seconds = best(() => {
    const output = join(work, "secretlint.json");
    // Its stdout is cut when large: the report goes to a file.
    spawnSync(secretlintBin, ["--secretlintrc", config, "--format", "json", "--output", output, sliceFile], {
      cwd: work,
      stdio: "ignore",
    });
    const report = JSON.parse(readFileSync(output, "utf8")) as { messages: { range: [number, number] }[] }[];
    const sliceText = slice.toString("utf8");
    found = report.flatMap((file) =>
      file.messages.map((m) => keyHash(sliceText.slice(m.range[0], m.range[1]))),
    );
  }, 3);
  rows.push({
    tool: "secretlint + rule-pattern (process, slice)",
    bytes: slice.length,
    "MB/s": mbps(slice.length, seconds),
    ...score(found, sliceKeys),
  });
}
console.table(rows);

/**
 * The whole CLI process against ripgrep on ~96 MB of real JavaScript (issue 13: the node_modules
 * .js files of this checkout, concatenated in path order) with 200 keys planted at line ends.
 * ripgrep gets the same prefix pattern; both read the file once, single-threaded, no mmap.
 */
function javascriptCorpus(): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  const pending = [join(ROOT, "node_modules")];
  while (pending.length > 0 && size < JS_CORPUS_BYTES) {
    const dir = pending.pop() as string;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    // Reverse name order onto a stack: directories come off it in name order.
    entries.sort((a, b) => (a.name < b.name ? 1 : -1));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.isFile() && entry.name.endsWith(".js") && size < JS_CORPUS_BYTES) {
        const bytes = readFileSync(path);
        parts.push(bytes);
        size += bytes.length;
      }
    }
  }
  return Buffer.concat(parts).subarray(0, JS_CORPUS_BYTES);
}

function plantAtLineEnds(corpus: Buffer, count: number): { text: Buffer; keys: Set<string> } {
  const text = corpus.toString("latin1");
  const step = Math.floor(text.length / (count + 1));
  const keys = new Set<string>();
  let out = "";
  let last = 0;
  for (let i = 1; i <= count; i++) {
    const at = text.indexOf("\n", i * step);
    const key = generateKey();
    keys.add(keyHash(key));
    out += `${text.slice(last, at)} "${key}"`;
    last = at;
  }
  return { text: Buffer.from(out + text.slice(last), "latin1"), keys };
}

const cli = join(ROOT, "dist", "bin", "keywatch.js");
if (existsSync(cli) && tool("rg", ["--version"])) {
  const { text: js, keys: jsKeys } = plantAtLineEnds(javascriptCorpus(), PLANTED);
  const jsFile = join(work, "corpus.js");
  writeFileSync(jsFile, js);
  const bytes = statSync(jsFile).size;
  const rgArgs = ["-j1", "--no-mmap", "-o", "-N", "--no-filename", PREFIX_PATTERN, jsFile];
  let keywatchHashes: string[] = [];
  let rgHashes: string[] = [];
  const keywatchRun = () => {
    const result = spawnSync(process.execPath, [cli, "scan", jsFile], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    if (result.status !== 1) throw new Error(`keywatch scan exited ${result.status}: ${result.stderr}`);
    keywatchHashes = result.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { keyHash: string }).keyHash);
  };
  const rgRun = () => {
    const out = execFileSync("rg", rgArgs, { encoding: "latin1", maxBuffer: 1 << 30 });
    rgHashes = out.split("\n").filter(Boolean).map(keyHash);
  };
  // Alternated, best of 9 each: a busy machine slows both alike rather than one of them.
  let keywatchSeconds = Number.POSITIVE_INFINITY;
  let rgSeconds = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 9; i++) {
    keywatchSeconds = Math.min(keywatchSeconds, best(keywatchRun, 1));
    rgSeconds = Math.min(rgSeconds, best(rgRun, 1));
  }
  console.log("javascript corpus:", {
    bytes,
    plantedKeys: jsKeys.size,
    loadAverage1m: loadavg()[0]?.toFixed(2),
  });
  console.table([
    {
      command: "node dist/bin/keywatch.js scan FILE",
      seconds: keywatchSeconds.toFixed(3),
      "MB/s": mbps(bytes, keywatchSeconds),
      ...score(keywatchHashes, jsKeys),
    },
    {
      command: `rg -j1 --no-mmap -o '${PREFIX_PATTERN}' FILE`,
      seconds: rgSeconds.toFixed(3),
      "MB/s": mbps(bytes, rgSeconds),
      ...score(rgHashes, jsKeys),
    },
  ]);
  console.log(
    `${(bytes / 1024 / 1024).toFixed(0)} MiB of JavaScript: keywatch scan / ripgrep = ${(keywatchSeconds / rgSeconds).toFixed(2)}x (target <= 10x)`,
  );
} else {
  console.log("process comparison skipped: run `npm run build` first and install ripgrep");
}
