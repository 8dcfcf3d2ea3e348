import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInflateRaw } from "node:zlib";
import type { ScanFinding } from "../../lambdas/domain/key-scanner.js";
import { type SourceScanOptions, scanSource } from "./scan-source.js";

const LOCAL_HEADER = 0x04034b50;

/** Whether a file's first bytes are a zip local file header ("PK\x03\x04"). */
export function looksLikeZip(magic: Uint8Array): boolean {
  return magic.length >= 4 && Buffer.from(magic.buffer, magic.byteOffset, 4).readUInt32LE(0) === LOCAL_HEADER;
}
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const STORED = 0;
const DEFLATE = 8;
/** The end record (22 bytes) can be followed by a comment of up to 65535 bytes. */
const MAX_TAIL = 22 + 65535;
/** Bounds that keep a hostile archive from costing more than a large file would. */
export const MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024;
export const MAX_INFLATED_PER_ARCHIVE = 2 * 1024 * 1024 * 1024;

export class ZipArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ZipArchiveError";
  }
}

interface ArchiveEntry {
  name: string;
  deflated: boolean;
  compressedSize: number;
  localHeaderOffset: number;
}

/** Stored and deflated entries of a zip (also .jar, .apk, .aar, .whl, .docx); undefined when it isn't one. */
async function archiveEntries(path: string, size: number): Promise<ArchiveEntry[] | undefined> {
  const file = await open(path, "r");
  try {
    const magic = Buffer.alloc(4);
    await file.read(magic, 0, 4, 0);
    if (magic.readUInt32LE(0) !== LOCAL_HEADER) return undefined;
    const tailLength = Math.min(size, MAX_TAIL);
    const tail = Buffer.alloc(tailLength);
    await file.read(tail, 0, tailLength, size - tailLength);
    let end = -1;
    for (let i = tailLength - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
        end = i;
        break;
      }
    }
    if (end < 0) return undefined;
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryOffset = tail.readUInt32LE(end + 16);
    // Zip64 archives (offsets of 0xffffffff) are left to the raw byte scan.
    if (directoryOffset === 0xffffffff || directoryOffset + directorySize > size) return undefined;
    if (directorySize > MAX_CENTRAL_DIRECTORY) throw new ZipArchiveError("zip central directory too large");
    const directory = Buffer.alloc(directorySize);
    await file.read(directory, 0, directorySize, directoryOffset);
    const entries: ArchiveEntry[] = [];
    for (let at = 0; at + 46 <= directory.length && directory.readUInt32LE(at) === CENTRAL_HEADER; ) {
      const flags = directory.readUInt16LE(at + 8);
      const method = directory.readUInt16LE(at + 10);
      const compressedSize = directory.readUInt32LE(at + 20);
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      const localHeaderOffset = directory.readUInt32LE(at + 42);
      const name = directory.toString(flags & 0x800 ? "utf8" : "latin1", at + 46, at + 46 + nameLength);
      const encrypted = (flags & 1) === 1;
      if (
        (method === DEFLATE || method === STORED) &&
        !encrypted &&
        compressedSize > 0 &&
        localHeaderOffset < size
      ) {
        entries.push({ name, deflated: method === DEFLATE, compressedSize, localHeaderOffset });
      }
      at += 46 + nameLength + extraLength + commentLength;
    }
    for (const entry of entries) {
      const header = Buffer.alloc(30);
      await file.read(header, 0, 30, entry.localHeaderOffset);
      if (header.readUInt32LE(0) !== LOCAL_HEADER) return undefined;
      // Point the offset at the compressed data, past the local header's own name and extra field.
      entry.localHeaderOffset += 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    }
    return entries;
  } finally {
    await file.close();
  }
}

/** Entries inflate into this budget; past it they are reported, not silently dropped. */
interface InflateBudget {
  left: number;
}

class BudgetSpent extends Error {}

async function* capped(chunks: AsyncIterable<Buffer>, budget: InflateBudget): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    if (chunk.length > budget.left) {
      // The part that fits is still scanned: a key before the limit is found.
      if (budget.left > 0) yield chunk.subarray(0, budget.left);
      budget.left = 0;
      throw new BudgetSpent();
    }
    budget.left -= chunk.length;
    yield chunk;
  }
}

export interface ZipScanOptions extends SourceScanOptions {
  /** Inflated bytes allowed per archive (default MAX_INFLATED_PER_ARCHIVE). */
  maxInflated?: number;
}

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

/**
 * Scans each entry of a zip archive on its own, inflating deflated ones, so findings name the
 * entry and a stored entry's first byte is not glued to the header bytes before it. Nested
 * archives are not opened. The inflated total is capped so a zip bomb can't run for ever, but
 * the walk goes on past it: stored entries are still scanned, and every entry the cap cut short
 * or kept from being inflated is reported through `onProblem` (a key is never hidden silently),
 * as is a corrupt entry.
 */
export async function scanZipEntries(
  path: string,
  size: number,
  options: ZipScanOptions,
  onFinding: (entry: string, finding: ScanFinding) => void,
  onProblem: (entry: string, message: string) => void,
): Promise<void> {
  const entries = await archiveEntries(path, size);
  if (!entries) return;
  const limit = options.maxInflated ?? MAX_INFLATED_PER_ARCHIVE;
  const budget: InflateBudget = { left: limit };
  const scanOptions: SourceScanOptions = { prefixes: options.prefixes, mode: options.mode };
  for (const entry of entries) {
    if (entry.deflated && budget.left <= 0) {
      onProblem(
        entry.name,
        `not scanned: the archive's entries inflate past ${mib(limit)} (the per-archive limit against zip bombs)`,
      );
      continue;
    }
    const end = Math.min(entry.localHeaderOffset + entry.compressedSize, size) - 1;
    const source = createReadStream(path, { start: entry.localHeaderOffset, end, highWaterMark: 1 << 20 });
    const inflater = entry.deflated ? createInflateRaw() : undefined;
    if (inflater) {
      source.on("error", (error) => inflater.destroy(error));
      source.pipe(inflater);
    }
    const before = budget.left;
    try {
      // Stored entries are bytes of the file itself: bounded by its size, never charged to the budget.
      const chunks = inflater ? capped(inflater, budget) : source;
      await scanSource(chunks, scanOptions, (finding) => onFinding(entry.name, finding));
    } catch (error) {
      if (error instanceof BudgetSpent) {
        onProblem(
          entry.name,
          `only its first ${mib(before)} scanned: the archive's entries inflate past ${mib(limit)} (the per-archive limit against zip bombs)`,
        );
      } else {
        onProblem(entry.name, `corrupt entry: ${(error as Error).message}`);
      }
    } finally {
      source.destroy();
      inflater?.destroy();
    }
  }
}
