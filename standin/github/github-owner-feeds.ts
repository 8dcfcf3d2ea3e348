import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Per-owner and per-repository event feeds for the GitHub stand-in (watch lists, issue 12 point 4),
 * in the recorded-shape and the firehose mode alike: every event the stand-in publishes on
 * `/events` is also filed under its repository, its organization and its actor, as GitHub does.
 *
 * Modelled on GitHub's docs (docs.github.com/rest/activity/events and /rest/users/users):
 * - `GET /users/{username}` answers for users and organizations alike; its `type` is `User` or
 *   `Organization`; an unknown login is a 404 "Not Found".
 * - `GET /orgs/{org}/events` lists public events in the organization's repositories (404 for a
 *   login that isn't an organization); `GET /users/{username}/events/public` lists public events
 *   the user performed (as actor); `GET /repos/{owner}/{repo}/events` a repository's events.
 * - "The timeline will include up to 300 events" (newest first, `per_page` ≤ 100, `Link`), each feed
 *   answers with `ETag` and `X-Poll-Interval`, and `If-None-Match` on an unchanged feed is a 304
 *   that leaves the rate limit untouched. Response shape: ../shared/github/list-repo-events.json.
 */

export type OwnerType = "User" | "Organization";

export interface OwnerAccount {
  login: string;
  type: OwnerType;
}

/** What the stand-in lends the feeds: its base URL, rate-limit headers, the feeds' poll interval. */
export interface OwnerFeedContext {
  base: string;
  /** Rate-limit headers; `count` spends one call (200s do, 304s don't). */
  rateHeaders(count: boolean): Record<string, string>;
  pollIntervalSeconds: number;
}

export interface OwnerFeeds {
  /** Files a published event under its repository's, its organization's and its actor's feeds. */
  record(event: unknown): void;
  addOwner(owner: OwnerAccount): void;
  /** Answers the owner and feed routes; false for any other path (the stand-in goes on). */
  serve(req: IncomingMessage, res: ServerResponse, url: URL, ctx: OwnerFeedContext): boolean;
}

const WINDOW = 300;

interface FeedItem {
  id: string;
  json: string;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): true {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
  return true;
}

const NOT_FOUND = {
  message: "Not Found",
  documentation_url: "https://docs.github.com/rest",
  status: "404",
};

/**
 * `owners` are the accounts GET /users/{owner} knows. With `learnOwners` (the recorded-shape demo),
 * every login an event names becomes known too: an `org` as an Organization, an actor or repository
 * owner as a User; any other login stays a 404.
 */
export function createOwnerFeeds(
  options: { owners?: readonly OwnerAccount[]; learnOwners?: boolean } = {},
): OwnerFeeds {
  const owners = new Map<string, OwnerAccount & { id: number }>();
  const feeds = new Map<string, FeedItem[]>();

  function addOwner(owner: OwnerAccount): void {
    const key = owner.login.toLowerCase();
    if (!owners.has(key)) owners.set(key, { ...owner, id: 10_000 + owners.size });
  }
  for (const owner of options.owners ?? []) addOwner(owner);

  function file(feed: string, item: FeedItem): void {
    const list = feeds.get(feed) ?? [];
    list.push(item);
    // GitHub keeps 300; a little slack avoids trimming on every event.
    if (list.length > WINDOW * 2) list.splice(0, list.length - WINDOW);
    feeds.set(feed, list);
  }

  function actorOf(login: string) {
    const account = owners.get(login.toLowerCase());
    return {
      id: account?.id ?? 1,
      login: account?.login ?? login,
      gravatar_id: "",
      url: `https://api.github.com/${account?.type === "Organization" ? "orgs" : "users"}/${login}`,
      avatar_url: `https://avatars.githubusercontent.com/u/${account?.id ?? 1}?`,
    };
  }

  function serveFeed(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    ctx: OwnerFeedContext,
    feed: string,
  ): true {
    const perPage = Math.min(Math.max(Number(url.searchParams.get("per_page")) || 30, 1), 100);
    const page = Math.max(Number(url.searchParams.get("page")) || 1, 1);
    const window = (feeds.get(feed) ?? []).slice(-WINDOW).reverse();
    const last = Math.max(Math.ceil(window.length / perPage), 1);
    const slice = window.slice((page - 1) * perPage, page * perPage);
    const etag = `W/"${createHash("sha1")
      .update(`${feed}:${page}:${perPage}:${slice.map((item) => item.id).join(",")}`)
      .digest("hex")}"`;
    const common = { etag, "x-poll-interval": String(ctx.pollIntervalSeconds) };
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, { ...common, ...ctx.rateHeaders(false) });
      res.end();
      return true;
    }
    const link = (p: number, rel: string) => {
      const next = new URL(url.toString());
      next.searchParams.set("page", String(p));
      return `<${ctx.base}${next.pathname}${next.search}>; rel="${rel}"`;
    };
    const links = [
      ...(page > 1 ? [link(page - 1, "prev"), link(1, "first")] : []),
      ...(page < last ? [link(page + 1, "next"), link(last, "last")] : []),
    ];
    return send(res, 200, `[${slice.map((item) => item.json).join(",")}]`, {
      ...common,
      ...ctx.rateHeaders(true),
      ...(links.length ? { link: links.join(", ") } : {}),
    });
  }

  return {
    addOwner,

    record(event: unknown): void {
      const e = event as {
        id?: unknown;
        repo?: { name?: unknown };
        actor?: { login?: unknown };
        org?: { login?: unknown };
      };
      const id = String(e.id ?? "");
      const repo = typeof e.repo?.name === "string" ? e.repo.name : "";
      const repoOwner = repo.split("/")[0] ?? "";
      const actor = typeof e.actor?.login === "string" ? e.actor.login : "";
      const orgLogin = typeof e.org?.login === "string" ? e.org.login : "";
      if (options.learnOwners) {
        if (orgLogin) addOwner({ login: orgLogin, type: "Organization" });
        for (const login of [actor, repoOwner]) if (login) addOwner({ login, type: "User" });
      }
      const json = JSON.stringify(event);
      if (repo) file(`repo:${repo.toLowerCase()}`, { id, json });
      // An organization's feed lists events in its repositories; they carry the `org` it belongs to.
      const org = owners.get((orgLogin || repoOwner).toLowerCase());
      if (org?.type === "Organization") {
        const withOrg = e.org ? json : JSON.stringify({ ...(event as object), org: actorOf(org.login) });
        file(`org:${org.login.toLowerCase()}`, { id, json: withOrg });
      }
      if (actor && owners.get(actor.toLowerCase())?.type === "User")
        file(`user:${actor.toLowerCase()}`, { id, json });
    },

    serve(req, res, url, ctx): boolean {
      const path = url.pathname;
      let m = /^\/users\/([^/]+)$/.exec(path);
      if (m) {
        const account = owners.get(decodeURIComponent(m[1] as string).toLowerCase());
        if (!account) return send(res, 404, NOT_FOUND, ctx.rateHeaders(true));
        return send(
          res,
          200,
          {
            ...actorOf(account.login),
            html_url: `https://github.com/${account.login}`,
            type: account.type,
            site_admin: false,
          },
          ctx.rateHeaders(true),
        );
      }
      m = /^\/orgs\/([^/]+)\/events$/.exec(path);
      if (m) {
        const login = decodeURIComponent(m[1] as string).toLowerCase();
        if (owners.get(login)?.type !== "Organization")
          return send(res, 404, NOT_FOUND, ctx.rateHeaders(true));
        return serveFeed(req, res, url, ctx, `org:${login}`);
      }
      m = /^\/users\/([^/]+)\/events\/public$/.exec(path);
      if (m) {
        const login = decodeURIComponent(m[1] as string).toLowerCase();
        if (!owners.has(login)) return send(res, 404, NOT_FOUND, ctx.rateHeaders(true));
        return serveFeed(req, res, url, ctx, `user:${login}`);
      }
      m = /^\/repos\/([^/]+)\/([^/]+)\/events$/.exec(path);
      if (m) {
        const owner = decodeURIComponent(m[1] as string).toLowerCase();
        if (!owners.has(owner)) return send(res, 404, NOT_FOUND, ctx.rateHeaders(true));
        return serveFeed(
          req,
          res,
          url,
          ctx,
          `repo:${owner}/${decodeURIComponent(m[2] as string).toLowerCase()}`,
        );
      }
      return false;
    },
  };
}
