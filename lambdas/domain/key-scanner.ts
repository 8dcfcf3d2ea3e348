import {
  assertPrefix,
  BODY_LENGTH,
  CHECK_LENGTH,
  checkOf,
  DEFAULT_PREFIX,
  keyHash,
  redactKey,
} from "./key-format.js";
import { DiffTracker, LineTracker, MAX_HEADER_LINE, type PositionTracker } from "./position-tracker.js";

export type ScanMode = "auto" | "text" | "diff";

export interface ScanOptions {
  /** Key prefixes to look for (several at once); default `["smk_"]`. */
  prefixes?: readonly string[];
  /** `diff`: positions in the new file, added lines only. `auto` decides from the first bytes. */
  mode?: ScanMode;
  /** Also look for keys stored as UTF-16LE (string tables of .NET and Windows binaries). */
  utf16?: boolean;
}

/** One key found in the input. It never carries the raw key: only its hash and redacted form. */
export interface ScanFinding {
  keyHash: string;
  redacted: string;
  prefix: string;
  /** Byte offset of the key's first byte in the input. */
  offset: number;
  /** 1-based; in diff mode, the line in the new file. */
  line: number;
  /** 1-based, in code points from the start of the line (diff mode: after the leading "+"). */
  column: number;
  /** Diff mode: the new file's path. */
  path?: string;
  encoding: "ascii" | "utf16le";
}

/** 1 for each byte of the base62 alphabet. */
const BASE62 = new Uint8Array(256);
for (const c of "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") BASE62[c.charCodeAt(0)] = 1;

const TAIL_LENGTH = BODY_LENGTH + CHECK_LENGTH;
const DETECT_LENGTH = 64;
const DIFF_START = /^(?:diff --git |--- |Index: |commit [0-9a-f]{40}|From [0-9a-f]{40} )/;

interface Needle {
  prefix: string;
  bytes: Buffer;
  /** 1 for ASCII, 2 for UTF-16LE. */
  width: 1 | 2;
  /** Bytes from the needle's start to the byte after the key. */
  span: number;
  /**
   * Where in `bytes` the search starts: native indexOf stops at every occurrence of its first
   * byte (every `s` for `smk_`), so it looks for the suffix from the rarest byte (`k_`) and
   * checks the bytes before it.
   */
  anchor: { skip: number; bytes: Buffer };
}

/**
 * A prefix's possible bytes, most frequent first, in source code and text: letters as in
 * English-language code, `_` as common as snake_case and dunder names make it. A fixed order,
 * not a sample of the input: a file's first kilobytes (a licence header) can hold no `_` at all
 * and would make the search stop at every one.
 */
const MOST_TO_LEAST_FREQUENT = "etaoinsrlcdupmh_fgbywvkxjqz";

/** The suffix of an ASCII prefix that starts at its rarest byte (`k_` of `smk_`). */
function anchorFor(bytes: Buffer): { skip: number; bytes: Buffer } {
  const rarity = (at: number) => MOST_TO_LEAST_FREQUENT.indexOf(String.fromCharCode(bytes[at] as number));
  let skip = 0;
  for (let j = 1; j < bytes.length; j++) if (rarity(j) > rarity(skip)) skip = j;
  return { skip, bytes: bytes.subarray(skip) };
}

function needlesFor(prefixes: readonly string[], utf16: boolean): Needle[] {
  const needles: Needle[] = [];
  for (const prefix of new Set(prefixes)) {
    assertPrefix(prefix);
    const span = prefix.length + TAIL_LENGTH + 1;
    const bytes = Buffer.from(prefix, "latin1");
    needles.push({ prefix, bytes, width: 1, span, anchor: anchorFor(bytes) });
    if (utf16) {
      // UTF-16LE needles (binaries only) are searched whole: their every other byte is NUL.
      const wide = Buffer.from(prefix, "utf16le");
      needles.push({ prefix, bytes: wide, width: 2, span: span * 2, anchor: { skip: 0, bytes: wide } });
    }
  }
  return needles;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Whether the character at `index` (of `width` bytes) is base62; out of range counts as a delimiter. */
function isBase62At(window: Buffer, index: number, width: 1 | 2): boolean {
  if (index < 0 || index + width > window.length) return false;
  if (width === 2 && window[index + 1] !== 0) return false;
  return BASE62[window[index] as number] === 1;
}

/**
 * Finds keys in a stream of bytes: text, diffs, minified bundles, binaries (any encoding that
 * keeps ASCII bytes as they are: UTF-8, Latin-1, dex strings, wasm data segments).
 *
 * One native `indexOf` pass per prefix finds candidates; each candidate is checked for its
 * delimiters and CRC-32 check digits. Positions are computed only up to findings (and window
 * ends when streaming), so clean input costs one memchr-speed pass.
 */
export class KeyScanner {
  private readonly needles: Needle[];
  private readonly maxSpan: number;
  private mode: ScanMode;
  private tracker: PositionTracker | undefined;
  /** Unscanned bytes carried from the previous window, and their absolute offset. */
  private carry: Buffer = Buffer.alloc(0);
  private carryBase = 0;
  /** Index in the next window from which candidates are still undecided. */
  private undecidedFrom = 0;
  private ended = false;
  private scratch: Buffer = Buffer.alloc(0);

  constructor(options: ScanOptions = {}) {
    this.needles = needlesFor(options.prefixes ?? [DEFAULT_PREFIX], options.utf16 ?? false);
    this.maxSpan = Math.max(...this.needles.map((needle) => needle.span));
    this.mode = options.mode ?? "auto";
  }

  /** Bytes seen so far. */
  get bytesSeen(): number {
    return this.carryBase + this.carry.length;
  }

  /** Scans the next chunk; returns the findings that could be decided so far. */
  push(chunk: Uint8Array): ScanFinding[] {
    if (this.ended) throw new Error("KeyScanner: push after end");
    if (chunk.length === 0) return [];
    if (this.carry.length === 0) return this.scanWindow(asBuffer(chunk), false);
    // One reused buffer for carry + chunk: a fresh one per chunk costs page faults and GC.
    const length = this.carry.length + chunk.length;
    if (this.scratch.length < length)
      this.scratch = Buffer.allocUnsafeSlow(Math.max(length, this.scratch.length * 2));
    this.carry.copy(this.scratch, 0);
    this.scratch.set(chunk, this.carry.length);
    return this.scanWindow(this.scratch.subarray(0, length), false);
  }

  /**
   * Like `push`, but `read` fills the scanner's own window buffer right after the carried bytes,
   * saving the copy of every chunk. Resolves to undefined when `read` returns 0 (end of input).
   */
  async pushFrom(
    read: (into: Buffer) => Promise<number>,
    chunkSize: number,
  ): Promise<ScanFinding[] | undefined> {
    if (this.ended) throw new Error("KeyScanner: push after end");
    const carried = this.carry.length;
    if (this.scratch.length < carried + chunkSize) this.scratch = Buffer.allocUnsafeSlow(carried + chunkSize);
    this.carry.copy(this.scratch, 0);
    const length = await read(this.scratch.subarray(carried, carried + chunkSize));
    if (length === 0) return undefined;
    return this.scanWindow(this.scratch.subarray(0, carried + length), false);
  }

  /** Decides the last candidates; the scanner can't be used afterwards. */
  end(): ScanFinding[] {
    if (this.ended) return [];
    const findings = this.scanWindow(this.carry, true);
    this.ended = true;
    return findings;
  }

  /** Scans a whole input held in memory: no window ends, so positions are computed only at findings. */
  scanAll(input: Uint8Array): ScanFinding[] {
    if (this.ended || this.bytesSeen > 0) throw new Error("KeyScanner: scanAll on a used scanner");
    this.ended = true;
    return this.scanWindow(asBuffer(input), true);
  }

  private trackerFor(window: Buffer): PositionTracker {
    if (!this.tracker) {
      if (this.mode === "auto") {
        this.mode = DIFF_START.test(window.toString("latin1", 0, Math.min(window.length, DETECT_LENGTH)))
          ? "diff"
          : "text";
      }
      this.tracker = this.mode === "diff" ? new DiffTracker() : new LineTracker();
    }
    return this.tracker;
  }

  private scanWindow(window: Buffer, final: boolean): ScanFinding[] {
    const base = this.carryBase;
    if (!this.tracker && this.mode === "auto" && !final && window.length < DETECT_LENGTH) {
      this.carry = Buffer.from(window);
      return [];
    }
    const tracker = this.trackerFor(window);
    let decideBefore = final ? window.length : window.length - this.maxSpan + 1;
    if (!final && this.mode === "diff") {
      // Keep an incomplete last line for the next window so its header can be read whole.
      const lastLineStart = window.lastIndexOf(10) + 1;
      if (window.length - lastLineStart <= MAX_HEADER_LINE)
        decideBefore = Math.min(decideBefore, lastLineStart);
    }
    decideBefore = Math.max(decideBefore, this.undecidedFrom);
    const findings: ScanFinding[] = [];
    for (const needle of this.needles) this.collect(window, base, needle, decideBefore, findings);
    if (this.needles.length > 1) findings.sort((a, b) => a.offset - b.offset);
    for (const finding of findings) {
      const position = tracker.positionAt(window, base, finding.offset);
      finding.line = position.line;
      finding.column = position.column;
      if (position.path !== undefined) finding.path = position.path;
      if (!position.counts) finding.offset = -1;
    }
    if (!final) {
      // Keep one decided byte before the undecided ones: it is the next candidate's left delimiter.
      const keep = Math.max(decideBefore - 1, 0);
      tracker.advanceTo(window, base, base + keep);
      this.carry = Buffer.from(window.subarray(keep));
      this.carryBase = base + keep;
      this.undecidedFrom = decideBefore - keep;
    }
    return findings.filter((finding) => finding.offset >= 0);
  }

  private collect(
    window: Buffer,
    base: number,
    needle: Needle,
    decideBefore: number,
    out: ScanFinding[],
  ): void {
    const { bytes, width, prefix } = needle;
    const tailStart = bytes.length;
    const { skip, bytes: anchor } = needle.anchor;
    for (let hit = window.indexOf(anchor, this.undecidedFrom + skip); hit !== -1; ) {
      const at = hit - skip;
      if (at >= decideBefore) break;
      if (skip === 0 || window.compare(bytes, 0, skip, at, hit) === 0) {
        this.record(window, base, at, tailStart, width, prefix, out);
      }
      hit = window.indexOf(anchor, hit + 1);
    }
  }

  private record(
    window: Buffer,
    base: number,
    at: number,
    tailStart: number,
    width: 1 | 2,
    prefix: string,
    out: ScanFinding[],
  ): void {
    const key = this.keyAt(window, at, tailStart, width, prefix);
    if (key === undefined) return;
    out.push({
      keyHash: keyHash(key),
      redacted: redactKey(key),
      prefix,
      offset: base + at,
      line: 0,
      column: 0,
      encoding: width === 1 ? "ascii" : "utf16le",
    });
  }

  /** The key starting at `at`, if it is delimited, well formed and its check digits match. */
  private keyAt(
    window: Buffer,
    at: number,
    tailStart: number,
    width: 1 | 2,
    prefix: string,
  ): string | undefined {
    if (isBase62At(window, at - width, width)) return undefined;
    const end = at + tailStart + TAIL_LENGTH * width;
    if (end > window.length) return undefined;
    for (let i = at + tailStart; i < end; i += width) {
      if (BASE62[window[i] as number] !== 1 || (width === 2 && window[i + 1] !== 0)) return undefined;
    }
    if (isBase62At(window, end, width)) return undefined;
    const key = window.toString(width === 1 ? "latin1" : "utf16le", at, end);
    const split = prefix.length + BODY_LENGTH;
    return checkOf(key.slice(0, split)) === key.slice(split) ? key : undefined;
  }
}

/** Scans a whole in-memory input; positions are computed only where keys are found. */
export function scanBuffer(input: Uint8Array | string, options: ScanOptions = {}): ScanFinding[] {
  const bytes = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  return new KeyScanner(options).scanAll(bytes);
}

/** Scans an async stream of chunks (a file, stdin, an HTTP body) without holding it in memory. */
export async function scanStream(
  chunks: AsyncIterable<Uint8Array>,
  options: ScanOptions = {},
  onFinding?: (finding: ScanFinding) => void,
): Promise<ScanFinding[]> {
  const scanner = new KeyScanner(options);
  const all: ScanFinding[] = [];
  const emit = (found: ScanFinding[]) => {
    for (const finding of found) {
      if (onFinding) onFinding(finding);
      else all.push(finding);
    }
  };
  for await (const chunk of chunks) emit(scanner.push(chunk));
  emit(scanner.end());
  return all;
}
