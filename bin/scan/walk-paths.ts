import type { Dirent, Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** What walking the command line's paths yields, in a stable (sorted) order. */
export type WalkEvent =
  /** A file to scan; `explicit` when named on the command line (then FIFOs and devices count too). */
  | { kind: "file"; path: string; size: number; explicit: boolean }
  /** Nothing to scan here, and nothing was missed: reported, but not an error. */
  | { kind: "skipped"; path: string; reason: string }
  /** Something that could not be read: reported, and the scan exits 2 unless it found keys. */
  | { kind: "error"; path: string; message: string };

const SKIPPED_DIRECTORIES = new Set([".git"]);

function identity(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ELOOP") return "too many levels of symbolic links";
  return code ?? (error as Error).message;
}

/**
 * Expands files and directories into the files to scan. Symbolic links are followed; every
 * directory and file is visited once (by device and inode), so a link back to an ancestor is
 * reported as a loop instead of being followed forever, and a file reached twice is scanned once.
 */
export async function* walkPaths(
  paths: readonly string[],
  /** Shared across calls so a file named twice on one command line is scanned once. */
  visited = new Set<string>(),
): AsyncGenerator<WalkEvent> {
  for (const path of paths) {
    let stats: Stats;
    try {
      stats = await stat(path);
    } catch (error) {
      yield { kind: "error", path, message: describe(error) };
      continue;
    }
    if (stats.isDirectory()) yield* walkDirectory(path, stats, [], visited);
    else if (!visited.has(identity(stats))) {
      visited.add(identity(stats));
      yield { kind: "file", path, size: stats.size, explicit: true };
    }
  }
}

async function* walkDirectory(
  path: string,
  stats: Stats,
  ancestors: readonly string[],
  visited: Set<string>,
): AsyncGenerator<WalkEvent> {
  const id = identity(stats);
  if (ancestors.includes(id)) {
    yield { kind: "skipped", path, reason: "directory loop (a link to one of its own parents)" };
    return;
  }
  if (visited.has(id)) return;
  visited.add(id);
  let entries: Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (error) {
    yield { kind: "error", path, message: describe(error) };
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lineage = [...ancestors, id];
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory() && SKIPPED_DIRECTORIES.has(entry.name)) continue;
    if (!entry.isSymbolicLink() && !entry.isDirectory() && !entry.isFile()) {
      // Reading a FIFO or a device found while recursing could block forever or never end.
      yield { kind: "skipped", path: child, reason: "not a regular file" };
      continue;
    }
    let childStats: Stats;
    try {
      childStats = await stat(child);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (entry.isSymbolicLink() && (code === "ENOENT" || code === "ELOOP")) {
        yield {
          kind: "skipped",
          path: child,
          reason: code === "ELOOP" ? "symbolic link loop" : "broken link",
        };
      } else {
        yield { kind: "error", path: child, message: describe(error) };
      }
      continue;
    }
    if (childStats.isDirectory()) {
      if (entry.isSymbolicLink() && SKIPPED_DIRECTORIES.has(entry.name)) continue;
      yield* walkDirectory(child, childStats, lineage, visited);
    } else if (childStats.isFile()) {
      if (visited.has(identity(childStats))) continue;
      visited.add(identity(childStats));
      yield { kind: "file", path: child, size: childStats.size, explicit: false };
    } else {
      yield { kind: "skipped", path: child, reason: "not a regular file" };
    }
  }
}
