import { z } from "zod";
import type { PushToScan } from "../domain/github-events.js";
import {
  type DiffResult,
  type EventsApi,
  type EventsPage,
  GitHubRunStoppedError,
} from "../domain/poll-events.js";
import { classifyGitHubError, type GitHubClient } from "./github-client.js";

const ZERO_SHA = /^0{40}$/;
const EventsArraySchema = z.array(z.unknown()).max(1000);
const RepoSchema = z.object({ default_branch: z.string().min(1).max(255) });

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

  /** The feed itself failing stops the run; an unexpected answer (a 404 on /events) too, cleanly. */
  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const stop = client.stopErrorFor(error);
      if (stop) throw stop;
      const status = (error as { status?: number }).status;
      if (status === undefined) throw error;
      throw new GitHubRunStoppedError("unavailable", `GET /events answered ${status}`, { cause: error });
    }
  }

  /**
   * A new branch (`before` = 40 zeros) is compared with the repository's default branch, so a key in
   * any of the branch's commits is seen, not only in its head commit. Undefined when the push is
   * to the default branch itself (a new repository's first push).
   */
  async function newBranchBase(owner: string, repo: string, push: PushToScan): Promise<string | undefined> {
    const { data } = await octokit.request("GET /repos/{owner}/{repo}", {
      owner,
      repo,
      request: { retries: 0 },
    });
    const defaultBranch = RepoSchema.parse(data).default_branch;
    return push.ref === `refs/heads/${defaultBranch}` ? undefined : defaultBranch;
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

    async pushDiff(push: PushToScan): Promise<DiffResult> {
      const { owner, repo } = splitRepo(push.repo);
      // No in-run retry of a diff: a slow or failing one is retried by a later run (with backoff),
      // so it can't eat the run's time while other pushes wait.
      const request = { retries: 0 };
      try {
        const base = ZERO_SHA.test(push.before) ? await newBranchBase(owner, repo, push) : push.before;
        // The default branch's first push has nothing to compare with: its head commit's own diff.
        const response =
          base === undefined
            ? await octokit.request("GET /repos/{owner}/{repo}/commits/{ref}", {
                owner,
                repo,
                ref: push.head,
                mediaType: { format: "diff" },
                request,
              })
            : await octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
                owner,
                repo,
                basehead: `${base}...${push.head}`,
                mediaType: { format: "diff" },
                request,
              });
        return { kind: "diff", text: typeof response.data === "string" ? response.data : "" };
      } catch (error) {
        const failure = classifyGitHubError(error);
        // Force-pushed away, repository deleted, blocked, DMCA'd, too large: this push only.
        if (failure.kind === "unreachable") return { kind: "unreachable", reason: failure.reason };
        const stop = client.stopErrorFor(error);
        if (failure.kind === "transient") {
          // The run's own deadline cut the request: a stop, not this push's fault.
          if (stop?.reason === "deadline") throw stop;
          return { kind: "retry", reason: failure.reason };
        }
        if (stop) throw stop;
        return { kind: "retry", reason: "error" };
      }
    },
  };
}
