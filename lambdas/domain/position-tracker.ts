import { isAscii } from "node:buffer";
import { countByteSimd } from "./byte-counter.js";

/**
 * Turns byte offsets into human positions while the scanner streams windows of input.
 * Both trackers only ever move forward and only as far as they are asked, so a buffer
 * without findings costs nothing here (the scanner asks at findings and at window ends).
 */
export interface Position {
  /** Path of the file the position belongs to (diff mode), otherwise undefined. */
  path?: string;
  line: number;
  column: number;
  /** False in diff mode when the position is not on an added line. */
  counts: boolean;
}

export interface PositionTracker {
  /** Moves to absolute offset `target`; `window` holds absolute bytes [base, base + window.length). */
  advanceTo(window: Uint8Array, base: number, target: number): void;
  /** The position of absolute offset `target` (after `advanceTo(target)`). */
  positionAt(window: Uint8Array, base: number, target: number): Position;
}

const NEWLINE = 10;

/**
 * Counts code points between two offsets: every byte that is not a UTF-8 continuation byte.
 * Long lines (minified bundles, binaries) make this hot, so ASCII ranges are answered by the
 * native SIMD check and the rest four bytes at a time.
 */
export function codePointsBetween(window: Uint8Array, from: number, to: number): number {
  if (to - from < 64) return codePointsSlow(window, from, to);
  if (isAscii(window.subarray(from, to))) return to - from;
  let i = from;
  let continuation = 0;
  // Aligned 32-bit words: a continuation byte is 10xxxxxx (top bit set, next bit clear).
  while (i < to && (window.byteOffset + i) % 4 !== 0) {
    if (((window[i] as number) & 0xc0) === 0x80) continuation++;
    i++;
  }
  const words = Math.floor((to - i) / 4);
  const view = new Uint32Array(window.buffer, window.byteOffset + i, words);
  for (let w = 0; w < words; w++) {
    const word = view[w] as number;
    const marks = (word & ~(word << 1) & 0x80808080) >>> 7;
    continuation += Math.imul(marks, 0x01010101) >>> 24;
  }
  i += words * 4;
  for (; i < to; i++) if (((window[i] as number) & 0xc0) === 0x80) continuation++;
  return to - from - continuation;
}

/** Below this a scalar count beats copying into WebAssembly memory. */
const SIMD_MIN_LENGTH = 4096;

/** Counts occurrences of `byte` in [from, to): WebAssembly SIMD for long ranges, else four bytes at a time. */
export function countByte(window: Uint8Array, from: number, to: number, byte: number): number {
  if (to - from >= SIMD_MIN_LENGTH) {
    const counted = countByteSimd(window, from, to, byte);
    if (counted !== undefined) return counted;
  }
  return countByteScalar(window, from, to, byte);
}

/** Four bytes at a time in 32-bit words (exact, no false matches); the fallback without SIMD. */
export function countByteScalar(window: Uint8Array, from: number, to: number, byte: number): number {
  let i = from;
  let count = 0;
  while (i < to && (window.byteOffset + i) % 4 !== 0) if (window[i++] === byte) count++;
  const words = Math.floor((to - i) / 4);
  if (words > 0) {
    const view = new Uint32Array(window.buffer, window.byteOffset + i, words);
    const pattern = Math.imul(byte, 0x01010101);
    for (let w = 0; w < words; ) {
      // Per-byte counters in one word: at most 255 words before they are summed, so no lane overflows.
      const stop = Math.min(words, w + 255);
      let lanes = 0;
      for (; w < stop; w++) {
        const x = (view[w] as number) ^ pattern;
        // High bit of each byte set exactly when that byte of x is zero (no borrow between bytes).
        lanes += (~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f) >>> 7) & 0x01010101;
      }
      count += (lanes & 0xff) + ((lanes >>> 8) & 0xff) + ((lanes >>> 16) & 0xff) + (lanes >>> 24);
    }
    i += words * 4;
  }
  for (; i < to; i++) if (window[i] === byte) count++;
  return count;
}

function codePointsSlow(window: Uint8Array, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) if (((window[i] as number) & 0xc0) !== 0x80) count++;
  return count;
}

/** Plain text and binaries: 1-based line and column (columns count code points). */
export class LineTracker implements PositionTracker {
  private cursor = 0;
  private line = 1;
  /** Code points from the start of the current line to the cursor. */
  private column = 0;

  advanceTo(window: Uint8Array, base: number, target: number): void {
    if (target <= this.cursor) return;
    const buffer = window as Buffer;
    const from = this.cursor - base;
    const to = target - base;
    const lastNewline = to > 0 ? buffer.lastIndexOf(NEWLINE, to - 1) : -1;
    if (lastNewline >= from) {
      this.line += countByte(window, from, lastNewline + 1, NEWLINE);
      this.column = codePointsBetween(window, lastNewline + 1, to);
    } else {
      this.column += codePointsBetween(window, from, to);
    }
    this.cursor = target;
  }

  positionAt(window: Uint8Array, base: number, target: number): Position {
    this.advanceTo(window, base, target);
    return { line: this.line, column: this.column + 1, counts: true };
  }
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const HUNK_NEEDLE = Buffer.from("\n@@ ");
const NEW_FILE_NEEDLE = Buffer.from("\n+++ ");
/** Below this distance a plain line walk is cheaper than searching backwards for a hunk. */
const JUMP_THRESHOLD = 4096;
/** Header lines longer than this are treated as content rather than parsed. */
export const MAX_HEADER_LINE = 4096;

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };

/** Undoes git's C-style path quoting: `\"`, `\\`, `\t`... and `\303\251` octal bytes of UTF-8. */
function unquoteC(quoted: string): string {
  const parts: Buffer[] = [];
  for (const [, escaped, text] of quoted.matchAll(/\\([0-7]{3}|[\s\S])|([^\\]+)/g)) {
    if (text !== undefined) parts.push(Buffer.from(text, "utf8"));
    else if (escaped !== undefined && escaped.length === 3)
      parts.push(Buffer.from([Number.parseInt(escaped, 8) & 0xff]));
    else if (escaped !== undefined) parts.push(Buffer.from([C_ESCAPES[escaped] ?? escaped.charCodeAt(0)]));
  }
  return Buffer.concat(parts).toString("utf8");
}

function unquotePath(raw: string): string {
  // The path ends at the first tab (a timestamp may follow). indexOf, not /\t.*$/: that regex
  // retries at every tab when a \r or U+2028 stops `.`, which is quadratic in the line length.
  const tab = raw.indexOf("\t");
  let path = tab === -1 ? raw : raw.slice(0, tab);
  if (path.length > 1 && path.startsWith('"') && path.endsWith('"')) path = unquoteC(path.slice(1, -1));
  return path.startsWith("b/") ? path.slice(2) : path;
}

/**
 * Unified diffs (`git diff`, `git log -p`, `git format-patch`): positions are in the new file,
 * and only added lines count. Hunks are followed by their line counts, so commit messages and
 * other text between hunks never count as added lines.
 */
export class DiffTracker implements PositionTracker {
  private cursor = 0;
  private started = false;
  private file: string | undefined;
  private previousLineWasOldHeader = false;
  private oldRemaining = 0;
  private newRemaining = 0;
  private nextNewLine = 0;
  /** State of the line that contains the cursor. */
  private lineStart = 0;
  private lineKind: "added" | "other" = "other";
  private lineNumber = 0;
  /** Code points of the current line's content up to the cursor. */
  private lineColumn = 0;

  advanceTo(window: Uint8Array, base: number, target: number): void {
    if (target <= this.cursor) return;
    const buffer = window as Buffer;
    if (!this.started) {
      // A key at offset 0 can't be on an added line, so the first line is entered lazily.
      this.started = true;
      this.enterLine(buffer, 0, base);
    }
    const previous = this.cursor;
    let from = this.cursor - base;
    const to = target - base;
    if (to - from > JUMP_THRESHOLD) from = this.jumpToLastHunk(buffer, base, from, to);
    // Visit each line start after `from`; the cursor's own line was classified when entered.
    for (;;) {
      const nl = buffer.indexOf(NEWLINE, from);
      if (nl === -1 || nl >= to) break;
      this.enterLine(buffer, nl + 1, base);
      from = nl + 1;
    }
    // Columns count from after the line's "+"; a line longer than a window keeps its count across windows.
    const contentStart = this.lineStart + 1;
    if (this.lineStart >= previous) this.lineColumn = 0;
    const countFrom = Math.max(contentStart, this.lineStart >= previous ? contentStart : previous);
    if (countFrom < target) this.lineColumn += codePointsBetween(window, countFrom - base, to);
    this.cursor = target;
  }

  positionAt(window: Uint8Array, base: number, target: number): Position {
    this.advanceTo(window, base, target);
    return {
      path: this.file,
      line: this.lineNumber,
      column: this.lineColumn + 1,
      counts: this.lineKind === "added",
    };
  }

  /** Skips straight to the last hunk header before `to`, picking up the file header before it. */
  private jumpToLastHunk(buffer: Buffer, base: number, from: number, to: number): number {
    const hunk = buffer.lastIndexOf(HUNK_NEEDLE, to - HUNK_NEEDLE.length);
    if (hunk < from) return from;
    const fileHeader = buffer.lastIndexOf(NEW_FILE_NEEDLE, hunk - 1);
    if (fileHeader >= from && this.isAfterOldHeader(buffer, fileHeader + 1)) {
      this.file = this.parseNewFile(buffer, fileHeader + 1);
    }
    this.oldRemaining = 0;
    this.newRemaining = 0;
    this.previousLineWasOldHeader = false;
    this.enterLine(buffer, hunk + 1, base);
    this.cursor = base + hunk + 1;
    return hunk + 1;
  }

  private isAfterOldHeader(buffer: Buffer, lineStart: number): boolean {
    const previous = buffer.lastIndexOf(NEWLINE, lineStart - 2);
    const start = previous + 1;
    return (
      buffer[start] === 45 && buffer[start + 1] === 45 && buffer[start + 2] === 45 && buffer[start + 3] === 32
    );
  }

  private lineText(buffer: Buffer, start: number): string {
    const nl = buffer.indexOf(NEWLINE, start);
    const end =
      nl === -1 ? Math.min(buffer.length, start + MAX_HEADER_LINE) : Math.min(nl, start + MAX_HEADER_LINE);
    return buffer.toString("utf8", start, end).replace(/\r$/, "");
  }

  private parseNewFile(buffer: Buffer, start: number): string | undefined {
    const path = unquotePath(this.lineText(buffer, start).slice(4));
    return path === "/dev/null" ? undefined : path;
  }

  private enterLine(buffer: Buffer, start: number, base: number): void {
    this.lineStart = start + base;
    this.lineKind = "other";
    const first = buffer[start];
    if (this.oldRemaining > 0 || this.newRemaining > 0) {
      if (first === 43 /* + */) {
        this.lineKind = "added";
        this.lineNumber = this.nextNewLine++;
        this.newRemaining--;
        return;
      }
      if (first === 32 /* space */ || first === 13 || first === NEWLINE) {
        this.lineNumber = this.nextNewLine++;
        this.oldRemaining--;
        this.newRemaining--;
        return;
      }
      if (first === 45 /* - */) {
        this.oldRemaining--;
        return;
      }
      if (first === 92 /* \ */) return;
      this.oldRemaining = 0;
      this.newRemaining = 0;
    }
    const wasOldHeader = this.previousLineWasOldHeader;
    this.previousLineWasOldHeader = false;
    if (first === 64 /* @ */) {
      const match = HUNK_HEADER.exec(this.lineText(buffer, start));
      if (match) {
        this.oldRemaining = match[2] === undefined ? 1 : Number(match[2]);
        this.newRemaining = match[4] === undefined ? 1 : Number(match[4]);
        this.nextNewLine = Number(match[3]);
      }
    } else if (
      first === 45 &&
      buffer[start + 1] === 45 &&
      buffer[start + 2] === 45 &&
      buffer[start + 3] === 32
    ) {
      this.previousLineWasOldHeader = true;
    } else if (first === 43 && wasOldHeader && buffer[start + 1] === 43 && buffer[start + 2] === 43) {
      this.file = this.parseNewFile(buffer, start);
    } else if (first === 100 /* d */ && buffer[start + 1] === 105 && buffer[start + 4] === 32) {
      // "diff --git": a new file section; its +++ header (if any) names the file.
      this.file = undefined;
    }
  }
}
