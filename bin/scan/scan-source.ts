import { closeSync, openSync, readSync } from "node:fs";
import { KeyScanner, type ScanFinding, type ScanMode } from "../../lambdas/domain/key-scanner.js";

/** Large reads: a 2 GB file takes ~500 syscalls and never more than a few windows in memory. */
export const READ_CHUNK = 4 * 1024 * 1024;

/** How many leading bytes decide whether an input is binary (the same heuristic git uses). */
export const BINARY_SNIFF_LENGTH = 8192;

export interface SourceScanOptions {
  prefixes: readonly string[];
  mode: ScanMode;
}

export interface SourceScanResult {
  binary: boolean;
  bytes: number;
  /** The first bytes (up to 4), so callers can recognise a format without reading again. */
  magic: Buffer;
}

/**
 * Scans a stream of chunks, deciding from its first 8 KiB whether it is binary (a NUL byte):
 * binaries are also searched for UTF-16LE keys (string tables of .NET and Windows programs).
 */
export async function scanSource(
  chunks: AsyncIterable<Uint8Array>,
  options: SourceScanOptions,
  onFinding: (finding: ScanFinding) => void,
): Promise<SourceScanResult> {
  let scanner: KeyScanner | undefined;
  let binary = false;
  let magic = Buffer.alloc(0);
  let head: Buffer[] = [];
  let headLength = 0;
  const start = () => {
    const first = Buffer.concat(head, headLength);
    magic = Buffer.from(first.subarray(0, 4));
    binary = first.subarray(0, BINARY_SNIFF_LENGTH).includes(0);
    scanner = new KeyScanner({ prefixes: options.prefixes, mode: options.mode, utf16: binary });
    head = [];
    emit(scanner.push(first));
    return scanner;
  };
  const emit = (found: ScanFinding[]) => {
    for (const finding of found) onFinding(finding);
  };
  for await (const chunk of chunks) {
    if (scanner) {
      emit(scanner.push(chunk));
      continue;
    }
    // Copied: a reader may reuse its buffer for the next chunk.
    head.push(Buffer.from(chunk));
    headLength += chunk.byteLength;
    if (headLength >= BINARY_SNIFF_LENGTH) start();
  }
  const last = scanner ?? start();
  const bytes = last.bytesSeen;
  emit(last.end());
  return { binary, bytes, magic };
}

/**
 * Scans a file of any size in fixed memory: the first read decides binary or text, then every
 * further read lands straight in the scanner's window buffer (no copy, no garbage per chunk).
 */
export async function scanFile(
  path: string,
  options: SourceScanOptions,
  onFinding: (finding: ScanFinding) => void,
  chunkSize = READ_CHUNK,
): Promise<SourceScanResult> {
  // Synchronous reads: the CLI scans one file at a time, and a thread-pool hop per 4 MiB read
  // left the process idle for a third of its run on a busy machine.
  const fd = openSync(path, "r");
  try {
    const first = Buffer.allocUnsafe(chunkSize);
    const bytesRead = readSync(fd, first, 0, chunkSize, null);
    const head = first.subarray(0, bytesRead);
    const binary = head.subarray(0, BINARY_SNIFF_LENGTH).includes(0);
    const scanner = new KeyScanner({ prefixes: options.prefixes, mode: options.mode, utf16: binary });
    const emit = (found: ScanFinding[]) => {
      for (const finding of found) onFinding(finding);
    };
    emit(scanner.push(head));
    const read = async (into: Buffer) => readSync(fd, into, 0, into.length, null);
    for (let found = bytesRead > 0 ? await scanner.pushFrom(read, chunkSize) : undefined; found; ) {
      emit(found);
      found = await scanner.pushFrom(read, chunkSize);
    }
    const bytes = scanner.bytesSeen;
    emit(scanner.end());
    return { binary, bytes, magic: Buffer.from(head.subarray(0, 4)) };
  } finally {
    closeSync(fd);
  }
}
