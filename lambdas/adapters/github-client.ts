import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import { GitHubRunStoppedError } from "../domain/poll-events.js";
import { GITHUB_API_VERSION } from "./github-api-version.js";

export interface GitHubClientOptions {
  /** `https://api.github.com`, a GitHub Enterprise Server `https://host/api/v3`, or the local stand-in. */
  baseUrl: string;
  token?: string;
  /** Per-request timeout (also bounded by the run's deadline). */
  timeoutMs?: number;
  /** Retries of a 5xx / timeout (plugin-retry), waiting `retryBaseMs × n²` before retry n. */
  retries?: number;
  retryBaseMs?: number;
  /** Rate-limit waits (retry-after, x-ratelimit-reset) retried at most this often per request. */
  rateLimitRetries?: number;
  /** Requests aren't started with less than this left before the deadline. */
  minRequestMs?: number;
  now?: () => number;
  userAgent?: string;
}

export interface GitHubClientStats {
  /** HTTP requests actually sent (retries included). */
  requests: number;
  /** Rate-limit answers (403/429) met, whether waited out or not. */
  rateLimited: number;
  /** Rate-limit waits that fit the deadline and were obeyed. */
  rateLimitWaits: number;
}

export { GITHUB_API_VERSION };

/** Why one item (a push's diff, a blob) can't be read, while other items may well be. */
export type UnreachableReason =
  | "blocked"
  | "legal"
  | "not_found"
  | "conflict"
  | "gone"
  | "too_large"
  | "unprocessable";

/**
 * What a failed GitHub call means for the run (docs/github-scanners.md, "Failure classes"):
 * - `rate_limited`: a real limit (429; 403 with `x-ratelimit-remaining: 0`, a `retry-after`, or the
 *   secondary-limit message): stop calling GitHub for this run.
 * - `unauthorized`: 401, the token is wrong or revoked: stop, say so, alarm.
 * - `deadline`: the run's time is spent.
 * - `unreachable`: this item only (403 "Repository access blocked", 451 DMCA, 404, 409, 410, 406
 *   `too_large`, 422): record why and move on.
 * - `transient`: 5xx, a timeout (GitHub cuts requests off at 10 s) or a network error: retry later.
 */
export type GitHubFailure =
  | { kind: "rate_limited" }
  | { kind: "unauthorized" }
  | { kind: "deadline" }
  | { kind: "unreachable"; reason: UnreachableReason; status: number }
  | { kind: "transient"; reason: "server_error" | "timeout" | "network"; status?: number }
  | { kind: "unknown" };

interface ErrorShape {
  status?: number;
  name?: string;
  message?: string;
  cause?: { name?: string };
  response?: { headers?: Record<string, unknown>; data?: unknown };
}

/** Classifies an error from octokit (or our timed fetch) by status, headers and GitHub's message. */
export function classifyGitHubError(error: unknown): GitHubFailure {
  const e = (error ?? {}) as ErrorShape;
  if (e.name === "AbortError") return { kind: "deadline" };
  const status = e.status;
  const headers = e.response?.headers ?? {};
  const message = `${e.message ?? ""} ${JSON.stringify(e.response?.data ?? "").slice(0, 2000)}`;
  if (status === 429) return { kind: "rate_limited" };
  if (status === 401) return { kind: "unauthorized" };
  if (status === 403) {
    const limited =
      String(headers["x-ratelimit-remaining"] ?? "") === "0" ||
      headers["retry-after"] !== undefined ||
      /\b(secondary )?rate limit/i.test(message);
    return limited ? { kind: "rate_limited" } : { kind: "unreachable", reason: "blocked", status };
  }
  const unreachable: Record<number, UnreachableReason> = {
    404: "not_found",
    406: "too_large",
    409: "conflict",
    410: "gone",
    422: "unprocessable",
    451: "legal",
  };
  if (status !== undefined && unreachable[status]) {
    return { kind: "unreachable", reason: unreachable[status], status };
  }
  if (status !== undefined && status >= 500) {
    // octokit reports a fetch that threw (timeout, reset) as a 500 whose cause is the fetch error.
    if (e.cause?.name === "TimeoutError") return { kind: "transient", reason: "timeout" };
    if (e.cause) return { kind: "transient", reason: "network" };
    return { kind: "transient", reason: "server_error", status };
  }
  return { kind: "unknown" };
}

export interface GitHubClient {
  readonly octokit: Octokit;
  readonly stats: GitHubClientStats;
  /** The run's deadline (epoch ms): no request starts and no wait is accepted past it. */
  setDeadline(epochMs: number): void;
  /** Set when a rate limit asked for a wait that didn't fit the deadline. */
  readonly rateLimitedUntil: Date | undefined;
  /** The clean-stop error for a failed call, or undefined when the error is not a stop. */
  stopErrorFor(error: unknown): GitHubRunStoppedError | undefined;
}

const ThrottledOctokit = Octokit.plugin(throttling, retry);

/** Stands in for the plugin's Bottleneck group for search: runs each job at once. */
const unpacedGroup = {
  key: () => ({
    schedule: (_options: unknown, job: (...args: unknown[]) => unknown, ...args: unknown[]) =>
      Promise.resolve(job(...args)),
  }),
};

/** DOMException AbortError: octokit rethrows it as is, so plugin-retry doesn't retry it. */
function deadlineAbort(): DOMException {
  return new DOMException("the run's GitHub time budget is spent", "AbortError");
}

/**
 * @octokit/rest with the throttling and retry plugins: configurable base URL, a timeout on every
 * request, primary and secondary rate limits obeyed (retry-after, x-ratelimit-reset) only when the
 * wait fits the run's deadline; otherwise the call fails and the caller stops its run cleanly.
 */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const minRequestMs = options.minRequestMs ?? 500;
  const rateLimitRetries = options.rateLimitRetries ?? 2;
  let deadline = Number.POSITIVE_INFINITY;
  let deadlineHit = false;
  let rateLimitedUntil: Date | undefined;
  const stats: GitHubClientStats = { requests: 0, rateLimited: 0, rateLimitWaits: 0 };

  const timedFetch: typeof fetch = async (input, init) => {
    const left = deadline - now();
    if (left < minRequestMs) {
      deadlineHit = true;
      throw deadlineAbort();
    }
    stats.requests++;
    const timeout = AbortSignal.timeout(Math.min(timeoutMs, left));
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await fetch(input, { ...init, signal });
    } catch (error) {
      // Cut short by the run's deadline rather than by the request's own timeout.
      if ((error as Error).name === "TimeoutError" && left < timeoutMs) deadlineHit = true;
      throw error;
    }
  };

  const onLimit = (retryAfterSeconds: number, _options: unknown, _octokit: unknown, retryCount: number) => {
    stats.rateLimited++;
    const waitMs = retryAfterSeconds * 1000;
    const fits = now() + waitMs + minRequestMs <= deadline;
    if (retryCount < rateLimitRetries && fits) {
      stats.rateLimitWaits++;
      return true;
    }
    rateLimitedUntil = new Date(now() + waitMs);
    return false;
  };

  const octokit: Octokit = new ThrottledOctokit({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.token ? { auth: options.token } : {}),
    userAgent: options.userAgent ?? "keywatch-scanner",
    request: { fetch: timedFetch },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    throttle: {
      onRateLimit: onLimit,
      onSecondaryRateLimit: onLimit,
      fallbackSecondaryRateRetryAfter: 60,
      // Code search is paced by our own 9/min pacer; the plugin's 2 s spacing would only add delay.
      search: unpacedGroup as never,
    },
    // 429 is the throttling plugin's (it reads retry-after); 5xx and timeouts are retried here.
    retry: {
      retries: options.retries ?? 2,
      retryAfterBaseValue: options.retryBaseMs ?? 1000,
      doNotRetry: [400, 401, 403, 404, 406, 409, 410, 422, 429, 451],
    },
  });

  // Every request, retries included, names the REST version it was written against.
  octokit.hook.before("request", (request) => {
    request.headers["x-github-api-version"] = GITHUB_API_VERSION;
  });

  return {
    octokit,
    stats,
    setDeadline(epochMs: number) {
      deadline = epochMs;
      deadlineHit = false;
      rateLimitedUntil = undefined;
    },
    get rateLimitedUntil() {
      return rateLimitedUntil;
    },
    stopErrorFor(error: unknown) {
      if (error instanceof GitHubRunStoppedError) return error;
      const failure = classifyGitHubError(error);
      if (deadlineHit || failure.kind === "deadline") {
        return new GitHubRunStoppedError("deadline", "stopped at the run's deadline", { cause: error });
      }
      if (failure.kind === "rate_limited") {
        return new GitHubRunStoppedError("rate_limited", "GitHub rate limit outlasts the run", {
          cause: error,
          ...(rateLimitedUntil ? { retryAt: rateLimitedUntil } : {}),
        });
      }
      if (failure.kind === "unauthorized") {
        return new GitHubRunStoppedError(
          "unauthorized",
          "GitHub answered 401: the token is invalid or revoked",
          {
            cause: error,
          },
        );
      }
      if (failure.kind === "transient") {
        return new GitHubRunStoppedError(
          "unavailable",
          `GitHub unavailable (${failure.reason}) after retries`,
          {
            cause: error,
          },
        );
      }
      return undefined;
    },
  };
}

/** The web base for links: api.github.com → github.com, GHES `https://host/api/v3` → `https://host`. */
export function webUrlFor(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === "api.github.com") return "https://github.com";
  if (url.pathname.replace(/\/+$/, "").endsWith("/api/v3")) return `${url.protocol}//${url.host}`;
  return "https://github.com";
}
