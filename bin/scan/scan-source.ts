import { open } from "node:fs/promises";
import { KeyScanner, type ScanFinding, type ScanMode } from "../../lambdas/domain/key-scanner.js";

/** Large reads: a 2 GB file takes ~500 syscalls and never more than a few windows in memory. */
export const READ_CHUNK = 4 * 1024 * 1024;

/**
 * Reads a file in chunks into one reused buffer (the scanner copies what it keeps), so a file of
 * any size costs a fixed amount of memory and no garbage per chunk.
 */
export async function* readChunks(path: string, chunkSize = READ_CHUNK): AsyncGenerator<Uint8Array> {
  const file = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafeSlow(chunkSize);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, chunkSize, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

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
