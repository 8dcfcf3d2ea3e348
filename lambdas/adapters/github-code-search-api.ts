import { z } from "zod";
import {
  type CodeSearchApi,
  type CodeSearchItem,
  type CodeSearchPage,
  SEARCH_RESULT_CAP,
} from "../domain/code-search-sweep.js";
import { GitHubRunStoppedError } from "../domain/poll-events.js";
import { classifyGitHubError, type GitHubClient } from "./github-client.js";
import type { RequestPacer } from "./request-pacer.js";

const SearchResponseSchema = z.object({
  total_count: z.number().int().nonnegative(),
  incomplete_results: z.boolean(),
  items: z
    .array(
      z.object({
        path: z.string().max(4096),
        sha: z.string().regex(/^[0-9a-f]{40,64}$/),
        html_url: z.string().url().max(4096),
        repository: z.object({ full_name: z.string().max(200) }),
        text_matches: z
          .array(z.object({ property: z.string().optional(), fragment: z.string().max(100_000).optional() }))
          .optional(),
      }),
    )
    .max(100),
});

const BlobSchema = z.object({ content: z.string(), encoding: z.string() });

export interface CodeSearchApiOptions {
  client: GitHubClient;
  pacer: RequestPacer;
  /** The run's deadline (epoch ms): a search slot that comes later stops the run. */
  deadline: () => number;
}

/** Code search with text matches, paced by our own 9/min pacer; blobs fetched only on request. */
export function createGitHubCodeSearchApi({ client, pacer, deadline }: CodeSearchApiOptions): CodeSearchApi {
  const { octokit } = client;
  return {
    async search({ query, page, perPage }): Promise<CodeSearchPage> {
      if (!(await pacer.take(deadline()))) {
        throw new GitHubRunStoppedError(
          "deadline",
          "the next code-search slot comes after the run's deadline",
        );
      }
      try {
        const response = await octokit.request("GET /search/code", {
          q: query,
          page,
          per_page: perPage,
          headers: { accept: "application/vnd.github.text-match+json" },
        });
        const parsed = SearchResponseSchema.safeParse(response.data);
        if (!parsed.success) {
          throw Object.assign(
            new Error("GET /search/code: unexpected response shape", { cause: parsed.error }),
            {
              status: 502,
            },
          );
        }
        const items: CodeSearchItem[] = parsed.data.items.map((item) => ({
          repo: item.repository.full_name,
          path: item.path,
          sha: item.sha,
          htmlUrl: item.html_url,
          fragments: (item.text_matches ?? [])
            .filter((match) => match.property === undefined || match.property === "content")
            .map((match) => match.fragment ?? "")
            .filter(Boolean),
        }));
        return {
          totalCount: parsed.data.total_count,
          incompleteResults: parsed.data.incomplete_results,
          items,
        };
      } catch (error) {
        const status = (error as { status?: number }).status;
        // 422 past the 1,000-result cap means "nothing more to read"; any other 422 is GitHub's
        // "validation failed, or the endpoint has been spammed": back off, keep the cursor.
        if (status === 422 && page * perPage > SEARCH_RESULT_CAP) {
          return { totalCount: 0, incompleteResults: false, items: [] };
        }
        if (status === 422) {
          throw new GitHubRunStoppedError("rate_limited", "code search answered 422 (spammed): backing off", {
            cause: error,
          });
        }
        throw client.stopErrorFor(error) ?? error;
      }
    },

    async blob(repo: string, sha: string): Promise<string | undefined> {
      const [owner = "", name = ""] = repo.split("/");
      try {
        const response = await octokit.request("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", {
          owner,
          repo: name,
          file_sha: sha,
          // A failing blob is retried by the next sweep (its location stays unseen), not in this run.
          request: { retries: 0 },
        });
        const blob = BlobSchema.parse(response.data);
        return blob.encoding === "base64"
          ? Buffer.from(blob.content, "base64").toString("utf8")
          : blob.content;
      } catch (error) {
        const failure = classifyGitHubError(error);
        // Gone, blocked, DMCA'd, too large: this file will never be readable; its fragments stand.
        if (failure.kind === "unreachable") return "";
        const stop = client.stopErrorFor(error);
        if (stop && stop.reason !== "unavailable") throw stop;
        return undefined;
      }
    },
  };
}
