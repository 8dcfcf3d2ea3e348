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
  if (code === "ENAMETOOLONG") return "path longer than the system allows (PATH_MAX): not read";
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
    if (stats.isDirectory()) yield* walkDirectory(path, stats, visited);
    else if (!visited.has(identity(stats))) {
      visited.add(identity(stats));
      yield { kind: "file", path, size: stats.size, explicit: true };
    }
  }
}

/** A directory being listed: its sorted entries and how far the walk has got through them. */
interface Frame {
  path: string;
  id: string;
  entries: Dirent[];
  next: number;
}

type Opened = { frame: Frame } | { event: WalkEvent } | undefined;

async function openDirectory(
  path: string,
  stats: Stats,
  onPath: Set<string>,
  visited: Set<string>,
): Promise<Opened> {
  const id = identity(stats);
  if (onPath.has(id)) {
    return { event: { kind: "skipped", path, reason: "directory loop (a link to one of its own parents)" } };
  }
  if (visited.has(id)) return undefined;
  visited.add(id);
  let entries: Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch (error) {
    return { event: { kind: "error", path, message: describe(error) } };
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  onPath.add(id);
  return { frame: { path, id, entries, next: 0 } };
}

/**
 * Depth-first, in name order, with an explicit stack: a tree thousands of levels deep costs one
 * frame per level in an array, not nested generators (which overflowed the call stack at ~2,000).
 */
async function* walkDirectory(
  root: string,
  rootStats: Stats,
  visited: Set<string>,
): AsyncGenerator<WalkEvent> {
  /** Identities of the directories from the root to the current one: a link to one of them is a loop. */
  const onPath = new Set<string>();
  const stack: Frame[] = [];
  const enter = (opened: Opened): WalkEvent | undefined => {
    if (opened && "frame" in opened) stack.push(opened.frame);
    return opened && "event" in opened ? opened.event : undefined;
  };
  const first = enter(await openDirectory(root, rootStats, onPath, visited));
  if (first) yield first;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const entry = frame.entries[frame.next++];
    if (!entry) {
      stack.pop();
      onPath.delete(frame.id);
      continue;
    }
    const child = join(frame.path, entry.name);
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
      const event = enter(await openDirectory(child, childStats, onPath, visited));
      if (event) yield event;
    } else if (childStats.isFile()) {
      if (visited.has(identity(childStats))) continue;
      visited.add(identity(childStats));
      yield { kind: "file", path: child, size: childStats.size, explicit: false };
    } else {
      yield { kind: "skipped", path: child, reason: "not a regular file" };
    }
  }
}
