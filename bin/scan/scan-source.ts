import { KeyScanner, type ScanFinding, type ScanMode } from "../../lambdas/domain/key-scanner.js";

/** How many leading bytes decide whether an input is binary (the same heuristic git uses). */
export const BINARY_SNIFF_LENGTH = 8192;

export interface SourceScanOptions {
  prefixes: readonly string[];
  mode: ScanMode;
}

export interface SourceScanResult {
  binary: boolean;
  bytes: number;
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
  let head: Buffer[] = [];
  let headLength = 0;
  const start = () => {
    const first = Buffer.concat(head, headLength);
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
    head.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    headLength += chunk.byteLength;
    if (headLength >= BINARY_SNIFF_LENGTH) start();
  }
  const last = scanner ?? start();
  const bytes = last.bytesSeen;
  emit(last.end());
  return { binary, bytes };
}
