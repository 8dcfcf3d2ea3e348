import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_PREFIX, PREFIX_PATTERN } from "../../lambdas/domain/key-format.js";
import type { ScanFinding } from "../../lambdas/domain/key-scanner.js";
import { type ReportedKey, sarifLog } from "../scan/sarif-log.js";
import { scanFile, scanSource } from "../scan/scan-source.js";
import { escapeUnsafeCharacters, escapeUnsafeInJson, shownName as shown } from "../scan/terminal-text.js";
import { walkPaths } from "../scan/walk-paths.js";
import { looksLikeZip, scanZipEntries } from "../scan/zip-entries.js";

export const EXIT_CLEAN = 0;
export const EXIT_KEYS_FOUND = 1;
export const EXIT_ERROR = 2;

const USAGE = `usage: keywatch scan [--format json|sarif] [--prefix P]... [PATH ...]
  PATH: files or directories (recursed, .git/ skipped); "-" or none reads stdin (diffs understood)
  exit status: 0 no keys, 1 keys found, 2 usage or I/O error`;

export interface ScanArgs {
  format: "json" | "sarif";
  prefixes: string[];
  paths: string[];
  help: boolean;
}

export class ScanUsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ScanUsageError";
  }
}

export function parseScanArgs(args: string[]): ScanArgs {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    throw new ScanUsageError((error as Error).message, { cause: error });
  }
  // Checked by hand rather than with zod: importing zod adds ~80 ms to every pre-commit hook run.
  const { format = "json", prefix: prefixes = [DEFAULT_PREFIX], help = false } = parsed.values;
  if (format !== "json" && format !== "sarif") throw new ScanUsageError('--format must be "json" or "sarif"');
  const badPrefix = prefixes.find((prefix) => !PREFIX_PATTERN.test(prefix));
  if (badPrefix !== undefined) {
    throw new ScanUsageError(
      `--prefix ${JSON.stringify(badPrefix)}: expected 2-10 lower-case letters and "_"`,
    );
  }
  if (parsed.positionals.includes("")) throw new ScanUsageError("empty PATH");
  return { format, prefixes: [...new Set(prefixes)], paths: parsed.positionals, help };
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: "string", short: "f" },
      prefix: { type: "string", multiple: true, short: "p" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function toolVersion(): string {
  for (const relative of ["../../../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as { name?: string };
      if (pkg.name === "keywatch") return String((pkg as { version?: string }).version ?? "0.0.0");
    } catch {
      // Not there in this layout (compiled vs source): try the next one.
    }
  }
  return "0.0.0";
}

export interface ScanIo {
  stdin: AsyncIterable<Uint8Array>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** `keywatch scan`: 0 no keys, 1 at least one key (even if something else failed), 2 error only. */
export async function scanCommand(args: string[], io: ScanIo): Promise<number> {
  let options: ScanArgs;
  try {
    options = parseScanArgs(args);
  } catch (error) {
    io.stderr(`keywatch scan: ${(error as Error).message} (see keywatch scan --help)\n`);
    return EXIT_ERROR;
  }
  if (options.help) {
    io.stdout(`${USAGE}\n`);
    return EXIT_CLEAN;
  }
  const reported: ReportedKey[] = [];
  let found = false;
  let failed = false;
  const report = (file: string, finding: ScanFinding) => {
    const key: ReportedKey = {
      file,
      line: finding.line,
      column: finding.column,
      redacted: finding.redacted,
      keyHash: finding.keyHash,
    };
    if (options.format === "sarif") reported.push(key);
    // File and entry names are the input's: control and bidi characters go out as \uXXXX.
    else io.stdout(`${escapeUnsafeInJson(JSON.stringify(key))}\n`);
    found = true;
  };
  const problem = (path: string, message: string) => {
    failed = true;
    io.stderr(`keywatch scan: ${shown(path)}: ${escapeUnsafeCharacters(message)}\n`);
  };
  const paths = options.paths.length === 0 ? ["-"] : options.paths;
  const fileOptions = { prefixes: options.prefixes, mode: "text" as const };
  let stdinRead = false;
  const visited = new Set<string>();
  for (const path of paths) {
    if (path === "-") {
      if (stdinRead) continue;
      stdinRead = true;
      try {
        // A diff on stdin is recognised from its first line: findings then name the diffed file.
        await scanSource(io.stdin, { prefixes: options.prefixes, mode: "auto" }, (finding) =>
          report(finding.path ?? "-", finding),
        );
      } catch (error) {
        problem("-", `cannot read stdin: ${(error as Error).message}`);
      }
      continue;
    }
    for await (const event of walkPaths([path], visited)) {
      if (event.kind === "error") problem(event.path, event.message);
      else if (event.kind === "skipped")
        io.stderr(`keywatch scan: skipped ${shown(event.path)}: ${escapeUnsafeCharacters(event.reason)}\n`);
      else {
        // Held back until the archive's entries are scanned: a key inside an entry is reported once, by entry.
        const raw: ScanFinding[] = [];
        const inEntries: [string, ScanFinding][] = [];
        const entryProblems: [string, string][] = [];
        let failure: unknown;
        try {
          const source = await scanFile(event.path, fileOptions, (finding) => raw.push(finding));
          if (looksLikeZip(source.magic)) {
            await scanZipEntries(
              event.path,
              event.size,
              fileOptions,
              (entry, finding) => inEntries.push([entry, finding]),
              (entry, message) => entryProblems.push([entry, message]),
            );
          }
        } catch (error) {
          failure = error;
        }
        // Whatever failed, every key already found is still reported.
        const reportedInEntries = new Set(inEntries.map(([, finding]) => finding.keyHash));
        for (const finding of raw) if (!reportedInEntries.has(finding.keyHash)) report(event.path, finding);
        for (const [entry, finding] of inEntries) report(`${event.path}!${entry}`, finding);
        for (const [entry, message] of entryProblems) problem(`${event.path}!${entry}`, message);
        if (failure !== undefined) problem(event.path, describeReadError(failure));
      }
    }
  }
  if (options.format === "sarif")
    io.stdout(`${escapeUnsafeInJson(JSON.stringify(sarifLog(reported, toolVersion()), null, 2))}\n`);
  if (found) return EXIT_KEYS_FOUND;
  return failed ? EXIT_ERROR : EXIT_CLEAN;
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EISDIR") return "is a directory";
  return (error as Error).message;
}

export async function run(args: string[]): Promise<number> {
  let closed = false;
  // `keywatch scan | head` closes the pipe early: stop writing, keep the exit status.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") closed = true;
    else throw error;
  });
  return scanCommand(args, {
    stdin: process.stdin,
    stdout: (text) => {
      if (!closed) process.stdout.write(text);
    },
    stderr: (text) => process.stderr.write(text),
  });
}
