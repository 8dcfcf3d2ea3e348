import { z } from "zod";
import type { FeedPage, FeedRequest, OwnerTypeResult, WatchApi } from "../domain/poll-watched-feeds.js";
import { classifyGitHubError, type GitHubClient } from "./github-client.js";
import { createGitHubEventsApi } from "./github-events-api.js";

const OwnerSchema = z.object({ type: z.string() });
const EventsArraySchema = z.array(z.unknown()).max(1000);

type Headers = Record<string, unknown>;

function headerOf(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}

function pollIntervalOf(headers: Headers): { pollIntervalSeconds?: number } {
  const seconds = Number(headerOf(headers, "x-poll-interval"));
  return Number.isFinite(seconds) && seconds > 0 ? { pollIntervalSeconds: seconds } : {};
}

/**
 * GitHub calls the watcher makes, on the shared client (timeouts, rate limits, API version):
 * `GET /users/{owner}` (its `type`: User or Organization), the owner's or repository's events with
 * `If-None-Match`, and push diffs through the events API's `pushDiff` (one implementation of diffs,
 * new branches included). A failure about one owner or feed is classified for that feed
 * (unreachable or retry); a run-wide one (rate limit, 401, deadline) throws GitHubRunStoppedError.
 */
export function createGitHubWatchApi(client: GitHubClient): WatchApi {
  const { octokit } = client;
  const events = createGitHubEventsApi(client);
  // Failures are retried by later runs with backoff, so one slow feed can't eat this run's minute.
  const request = { retries: 0 };

  function failureOf(error: unknown): { kind: "unreachable" | "retry"; reason: string } {
    const failure = classifyGitHubError(error);
    if (failure.kind === "unreachable") return { kind: "unreachable", reason: failure.reason };
    const stop = client.stopErrorFor(error);
    if (stop && (failure.kind !== "transient" || stop.reason === "deadline")) throw stop;
    return { kind: "retry", reason: failure.kind === "transient" ? failure.reason : "error" };
  }

  function feedRoute(feed: FeedRequest) {
    switch (feed.kind) {
      case "org":
        return { route: "GET /orgs/{org}/events", params: { org: feed.owner } } as const;
      case "user":
        return { route: "GET /users/{username}/events/public", params: { username: feed.owner } } as const;
      case "repo":
        return {
          route: "GET /repos/{owner}/{repo}/events",
          params: { owner: feed.owner, repo: feed.repo },
        } as const;
    }
  }

  return {
    async ownerType(owner: string): Promise<OwnerTypeResult> {
      try {
        const { data } = await octokit.request("GET /users/{username}", { username: owner, request });
        const type = OwnerSchema.safeParse(data);
        if (!type.success) return { kind: "retry", reason: "malformed" };
        // Anything but an organization lists its events as a user (bots included).
        return { kind: "found", type: type.data.type === "Organization" ? "Organization" : "User" };
      } catch (error) {
        return failureOf(error);
      }
    },

    async listFeedEvents({ feed, page, perPage, etag }): Promise<FeedPage> {
      const { route, params } = feedRoute(feed);
      try {
        const response = await octokit.request(route, {
          ...params,
          page,
          per_page: perPage,
          request,
          ...(etag ? { headers: { "if-none-match": etag } } : {}),
        } as never);
        const headers = response.headers as Headers;
        const parsed = EventsArraySchema.safeParse(response.data);
        if (!parsed.success) return { status: "retry", reason: "malformed" };
        const newEtag = headerOf(headers, "etag");
        return {
          status: 200,
          events: parsed.data,
          hasNext: /rel="next"/.test(headerOf(headers, "link") ?? ""),
          ...(newEtag ? { etag: newEtag } : {}),
          ...pollIntervalOf(headers),
        };
      } catch (error) {
        const e = error as { status?: number; response?: { headers?: Headers } };
        if (e.status === 304) {
          return {
            status: 304,
            events: [],
            hasNext: false,
            ...(etag ? { etag } : {}),
            ...pollIntervalOf(e.response?.headers ?? {}),
          };
        }
        const failure = failureOf(error);
        return { status: failure.kind, reason: failure.reason };
      }
    },

    pushDiff: (push) => events.pushDiff(push),
  };
}
