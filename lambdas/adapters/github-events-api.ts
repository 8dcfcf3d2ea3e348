import { z } from "zod";
import type { PushToScan } from "../domain/github-events.js";
import type { EventsApi, EventsPage } from "../domain/poll-events.js";
import type { GitHubClient } from "./github-client.js";

const ZERO_SHA = /^0{40}$/;
const EventsArraySchema = z.array(z.unknown()).max(1000);

function header(headers: Record<string, unknown>, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

function splitRepo(repo: string): { owner: string; repo: string } {
  const [owner = "", name = ""] = repo.split("/");
  return { owner, repo: name };
}

/** GitHub calls as the events poller needs them, on the shared client; failures become clean stops. */
export function createGitHubEventsApi(client: GitHubClient): EventsApi {
  const { octokit } = client;

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw client.stopErrorFor(error) ?? error;
    }
  }

  return {
    async listPublicEvents({ page, perPage, etag }): Promise<EventsPage> {
      return call(async () => {
        try {
          const response = await octokit.request("GET /events", {
            page,
            per_page: perPage,
            ...(etag ? { headers: { "if-none-match": etag } } : {}),
          });
          const headers = response.headers as Record<string, unknown>;
          const events = EventsArraySchema.safeParse(response.data);
          if (!events.success) {
            throw Object.assign(new Error("GET /events: response body is not a JSON array"), { status: 502 });
          }
          const interval = Number(header(headers, "x-poll-interval"));
          const result: EventsPage = {
            status: 200,
            events: events.data,
            hasNext: /rel="next"/.test(header(headers, "link") ?? ""),
          };
          const newEtag = header(headers, "etag");
          if (newEtag) result.etag = newEtag;
          if (Number.isFinite(interval) && interval > 0) result.pollIntervalSeconds = interval;
          return result;
        } catch (error) {
          if ((error as { status?: number }).status !== 304) throw error;
          const headers = ((error as { response?: { headers?: Record<string, unknown> } }).response
            ?.headers ?? {}) as Record<string, unknown>;
          const interval = Number(header(headers, "x-poll-interval"));
          return {
            status: 304,
            events: [],
            hasNext: false,
            ...(etag ? { etag } : {}),
            ...(Number.isFinite(interval) && interval > 0 ? { pollIntervalSeconds: interval } : {}),
          };
        }
      });
    },

    async pushDiff(push: PushToScan): Promise<string> {
      const { owner, repo } = splitRepo(push.repo);
      return call(async () => {
        try {
          // A new branch has no base to compare with: its head commit's own diff, still one call.
          const response = ZERO_SHA.test(push.before)
            ? await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
                owner,
                repo,
                ref: push.head,
                mediaType: { format: "diff" },
              })
            : await octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
                owner,
                repo,
                basehead: `${push.before}...${push.head}`,
                mediaType: { format: "diff" },
              });
          return typeof response.data === "string" ? response.data : "";
        } catch (error) {
          // Force-pushed away, repository deleted or made private again: nothing left to scan.
          const status = (error as { status?: number }).status;
          if (status === 404 || status === 422 || status === 409) return "";
          throw error;
        }
      });
    },
  };
}
