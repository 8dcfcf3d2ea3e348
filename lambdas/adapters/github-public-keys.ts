import { z } from "zod";
import { type PartnerPublicKey, partnerPublicKey } from "../domain/partner-signature.js";
import { type Clock, systemClock } from "./clock.js";
import { GITHUB_API_VERSION } from "./github-api-version.js";
import { isPlaceholderToken } from "./github-token.js";

/** Where the secret-scanning handler finds the key a delivery names in `Github-Public-Key-Identifier`. */
export interface PublicKeyDirectory {
  /** The key, or undefined when GitHub doesn't list it. Throws PublicKeysUnavailableError when no list can be had. */
  keyFor(keyIdentifier: string): Promise<PartnerPublicKey | undefined>;
}

export class PublicKeysUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PublicKeysUnavailableError";
  }
}

/** Minimal structured logger (Powertools' Logger fits). */
export interface DirectoryLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface GitHubPublicKeysOptions {
  /** GitHub API base URL (GITHUB_API_URL); default https://api.github.com. */
  apiUrl?: string;
  /** Optional: raises GitHub's rate limit; the endpoint needs no scope. A function is called per fetch (e.g. a cached secret read). */
  token?: string | (() => Promise<string | undefined>);
  clock?: Clock;
  /** How long a fetched list is trusted before it is fetched again (default 1 h). */
  ttlMs?: number;
  /** Least time between two fetches caused by unknown identifiers or failures (default 60 s). */
  refetchCooldownMs?: number;
  /** Per attempt, connection to last body byte (default 5 s). */
  timeoutMs?: number;
  /** Attempts per fetch on network errors, timeouts, 403, 429 and 5xx (default 3). */
  attempts?: number;
  /** First backoff; doubled per retry, with jitter (default 200 ms). */
  backoffMs?: number;
  fetch?: typeof fetch;
  logger?: DirectoryLogger;
}

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";
export const PUBLIC_KEYS_PATH = "/meta/public_keys/secret_scanning";

const PublicKeysResponseSchema = z.object({
  public_keys: z
    .array(
      z.object({
        key_identifier: z.string().min(1).max(256),
        key: z.string().min(1).max(8192),
        is_current: z.boolean().optional().default(false),
      }),
    )
    .max(100),
});

class RetryableFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RetryableFetchError";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * GitHub's secret-scanning public keys, cached: fetched at most once per TTL, refetched at most
 * once per cooldown when a delivery names an identifier not in the list (key rotation), so a
 * caller sending made-up identifiers can't make us fetch per request. Concurrent lookups share
 * one fetch. When a refresh fails the previous list keeps serving.
 */
export function createGitHubPublicKeys(options: GitHubPublicKeysOptions = {}): PublicKeyDirectory {
  const apiUrl = (options.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, "");
  const clock = options.clock ?? systemClock;
  const ttlMs = options.ttlMs ?? 60 * 60 * 1000;
  const cooldownMs = options.refetchCooldownMs ?? 60 * 1000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const attempts = Math.max(1, options.attempts ?? 3);
  const backoffMs = options.backoffMs ?? 200;
  const doFetch = options.fetch ?? globalThis.fetch;
  const logger = options.logger;

  let keys: Map<string, PartnerPublicKey> | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let lastAttemptAt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  /** The ETag of the list we hold: a conditional request answered 304 keeps it and costs no rate limit. */
  let etag: string | undefined;
  /** Set after GitHub refused the token (401): the keys endpoint needs none, so go without. */
  let tokenRefused = false;

  /** The fresh list, or undefined when GitHub answered 304 (the held list is still current). */
  async function fetchOnce(): Promise<Map<string, PartnerPublicKey> | undefined> {
    const headers: Record<string, string> = {
      accept: "application/vnd.github+json",
      "user-agent": "keywatch",
      "x-github-api-version": GITHUB_API_VERSION,
    };
    const token = typeof options.token === "function" ? await options.token() : options.token;
    // A token raises the rate limit; the secret's generated placeholder would only earn a 401.
    const sendToken = token !== undefined && !tokenRefused && !isPlaceholderToken(token);
    if (sendToken) headers.authorization = `Bearer ${token}`;
    if (etag && keys) headers["if-none-match"] = etag;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${apiUrl}${PUBLIC_KEYS_PATH}`, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new RetryableFetchError(`GET ${PUBLIC_KEYS_PATH} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (response.status === 304 && keys) return undefined;
    if (response.status === 401 && sendToken) {
      tokenRefused = true;
      logger?.warn("github token refused (401); fetching public keys without it", {});
      throw new RetryableFetchError(`GET ${PUBLIC_KEYS_PATH} answered 401 with the token`);
    }
    // 403: an unauthenticated client's rate limit (60/h per IP, shared on Lambda) or a secondary limit.
    if (response.status === 403 || response.status === 429 || response.status >= 500) {
      throw new RetryableFetchError(`GET ${PUBLIC_KEYS_PATH} answered ${response.status}`);
    }
    if (!response.ok) throw new Error(`GET ${PUBLIC_KEYS_PATH} answered ${response.status}`);
    let parsed: z.infer<typeof PublicKeysResponseSchema>;
    try {
      parsed = PublicKeysResponseSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new Error(`GET ${PUBLIC_KEYS_PATH}: unexpected response`, { cause: error });
    }
    const list = new Map<string, PartnerPublicKey>();
    for (const entry of parsed.public_keys) {
      try {
        list.set(entry.key_identifier, partnerPublicKey(entry.key_identifier, entry.key, entry.is_current));
      } catch (error) {
        // One unusable key must not take the others down with it.
        logger?.warn("github public key skipped", {
          keyIdentifier: entry.key_identifier,
          error: (error as Error).message,
        });
      }
    }
    etag = response.headers.get("etag") ?? undefined;
    return list;
  }

  async function fetchWithRetries(): Promise<Map<string, PartnerPublicKey> | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetchOnce();
      } catch (error) {
        if (!(error instanceof RetryableFetchError) || attempt >= attempts) throw error;
        const delay = backoffMs * 2 ** (attempt - 1);
        await sleep(delay / 2 + Math.random() * (delay / 2));
      }
    }
  }

  function refresh(): Promise<void> {
    inflight ??= (async () => {
      lastAttemptAt = clock.now().getTime();
      try {
        const fresh = await fetchWithRetries();
        if (fresh) keys = fresh;
        fetchedAt = clock.now().getTime();
        logger?.info(fresh ? "github public keys fetched" : "github public keys unchanged (304)", {
          keys: keys?.size ?? 0,
        });
      } catch (error) {
        logger?.warn("github public keys fetch failed", { error: (error as Error).message });
        if (!keys) {
          throw new PublicKeysUnavailableError(`could not fetch GitHub's public keys from ${apiUrl}`, {
            cause: error,
          });
        }
      }
    })().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  const mayFetch = (now: number) => now - lastAttemptAt >= cooldownMs;

  return {
    async keyFor(keyIdentifier) {
      let now = clock.now().getTime();
      if (inflight) await inflight;
      else if (!keys && !mayFetch(now)) {
        throw new PublicKeysUnavailableError(
          "GitHub's public keys are unavailable; retrying after a cooldown",
        );
      } else if (!keys || (now - fetchedAt >= ttlMs && mayFetch(now))) await refresh();
      const known = keys?.get(keyIdentifier);
      if (known) return known;
      now = clock.now().getTime();
      // An unknown identifier may be a freshly rotated key: look once, then wait out the cooldown.
      if (mayFetch(now)) {
        await refresh();
        return keys?.get(keyIdentifier);
      }
      return undefined;
    },
  };
}
