import { z } from "zod";

/**
 * Watch lists (issue 12 point 4): a project names the GitHub owners (users, organizations) or
 * repositories its code lives in, and the watcher diffs every push they make. Pure: no AWS, no HTTP.
 *
 * Naming rules, from GitHub: a login is 1-39 letters, digits or hyphens, not starting or ending with
 * a hyphen (docs.github.com "Username considerations for external authentication"; older accounts
 * may hold consecutive hyphens, so those are accepted); a repository name is 1-100 letters, digits,
 * `.`, `-` or `_`, never `.` or `..`. Both are case-insensitive on GitHub ("The name is not case
 * sensitive", GET /repos/{owner}/{repo}), so a target's identity is its lower-case form and the
 * spelling the user typed is kept for display.
 */

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;

export const WatchOwnerSchema = z
  .string()
  .regex(LOGIN, "a GitHub owner is 1-39 letters, digits or hyphens, not starting or ending with '-'");

export const WatchRepoNameSchema = z
  .string()
  .regex(REPO, "a repository name is 1-100 letters, digits, '.', '-' or '_'")
  .refine((name) => name !== "." && name !== "..", "'.' and '..' are not repository names")
  .refine((name) => !name.toLowerCase().endsWith(".git"), "name the repository without '.git'");

/** What can be watched: a whole owner's feed, or one repository's. */
export type WatchTarget =
  | { kind: "owner"; owner: string; id: string }
  | { kind: "repo"; owner: string; repo: string; id: string };

/** `OWNER` or `OWNER/REPO` as typed (surrounding spaces and a github.com URL prefix tolerated). */
export const WatchTargetSchema = z
  .string()
  .trim()
  .max(200, "too long for OWNER or OWNER/REPO")
  .transform((raw) => raw.replace(/^(?:https?:\/\/)?github\.com\//i, "").replace(/\/+$/, ""))
  .transform((raw, ctx): WatchTarget => {
    const parts = raw.split("/");
    if (parts.length > 2 || parts.some((part) => part === "")) {
      ctx.addIssue({ code: "custom", message: `expected OWNER or OWNER/REPO, got "${raw}"` });
      return z.NEVER;
    }
    const owner = WatchOwnerSchema.safeParse(parts[0]);
    if (!owner.success) {
      ctx.addIssue({ code: "custom", message: owner.error.issues[0]?.message ?? "invalid owner" });
      return z.NEVER;
    }
    if (parts.length === 1) return { kind: "owner", owner: owner.data, id: owner.data.toLowerCase() };
    const repo = WatchRepoNameSchema.safeParse(parts[1]);
    if (!repo.success) {
      ctx.addIssue({ code: "custom", message: repo.error.issues[0]?.message ?? "invalid repository" });
      return z.NEVER;
    }
    return {
      kind: "repo",
      owner: owner.data,
      repo: repo.data,
      id: `${owner.data}/${repo.data}`.toLowerCase(),
    };
  });

/** The spelling a target is shown with (as the user added it). */
export function targetName(target: WatchTarget): string {
  return target.kind === "owner" ? target.owner : `${target.owner}/${target.repo}`;
}

/** One project's watch of one target (a target watched by two projects is two entries, one feed). */
export interface WatchEntry {
  project: string;
  target: WatchTarget;
  /** ISO time of `watch add`: the first poll of a feed scans events from shortly before it. */
  addedAt: string;
}

/** GitHub's account type, from `GET /users/{owner}`: it decides which feed lists the owner's events. */
export type OwnerType = "User" | "Organization";

/**
 * A feed the watcher polls: `owner:<login>` (the org's events or the user's public events, once the
 * owner's type is known) or `repo:<owner>/<repo>`. Ids are lower case: identity is case-insensitive.
 */
export interface WatchedFeed {
  id: string;
  kind: "owner" | "repo";
  /** Login as first added (display and request paths; GitHub accepts any case). */
  owner: string;
  repo?: string;
  /** Earliest `addedAt` of the entries that watch it. */
  addedAt: string;
  /** Projects watching it (for the health panel and logs). */
  projects: string[];
}

export function feedIdOf(target: WatchTarget): string {
  return `${target.kind}:${target.id}`;
}

/** The distinct feeds behind a list of entries: one per target, however many projects watch it. */
export function feedsOf(entries: readonly WatchEntry[]): WatchedFeed[] {
  const feeds = new Map<string, WatchedFeed>();
  for (const entry of entries) {
    const id = feedIdOf(entry.target);
    const known = feeds.get(id);
    if (known) {
      if (entry.addedAt < known.addedAt) known.addedAt = entry.addedAt;
      if (!known.projects.includes(entry.project)) known.projects.push(entry.project);
      continue;
    }
    feeds.set(id, {
      id,
      kind: entry.target.kind,
      owner: entry.target.owner,
      ...(entry.target.kind === "repo" ? { repo: entry.target.repo } : {}),
      addedAt: entry.addedAt,
      projects: [entry.project],
    });
  }
  return [...feeds.values()].sort((a, b) => a.id.localeCompare(b.id));
}
