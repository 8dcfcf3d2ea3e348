import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { z } from "zod";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import {
  createGitHubPublicKeys,
  type PublicKeyDirectory,
  PublicKeysUnavailableError,
} from "../../lambdas/adapters/github-public-keys.js";
import type { Route } from "../../lambdas/adapters/local-http.js";
import { createLogger } from "../../lambdas/adapters/logger.js";
import { recordScannerHealth } from "../../lambdas/adapters/scanner-health.js";
import { type PartnerPublicKey, partnerPublicKey } from "../../lambdas/domain/partner-signature.js";
import { makeSecretScanningHandler } from "../../lambdas/handlers/secret-scanning.js";
import type { RunnerContext } from "./runner.js";

/** Offline (stand-in) mode: GitHub's key list as a file, e.g. saved from `keywatch webhook sign --public-keys`. */
export const LOCAL_PUBLIC_KEYS_FILE = "github-public-keys.json";

/**
 * Reads `{"public_keys": [...]}` from a file when an identifier isn't known yet: lets the offline
 * demo verify payloads signed with a local key. A missing file means no keys (401), not an error.
 */
export function fileBackedPublicKeys(path: string): PublicKeyDirectory {
  let keys = new Map<string, PartnerPublicKey>();
  return {
    async keyFor(id) {
      if (!keys.has(id)) {
        // Local only: a file read per unknown identifier costs nothing worth rate-limiting.
        const text = await readFile(path, "utf8").catch(() => undefined);
        const parsed =
          text === undefined ? { success: false as const } : LocalKeysSchema.safeParse(safeJson(text));
        if (!parsed.success && text !== undefined)
          throw new PublicKeysUnavailableError(`${path} is not a public-keys list`);
        const listed = parsed.success ? parsed.data.public_keys : [];
        keys = new Map(
          listed.map((k) => [k.key_identifier, partnerPublicKey(k.key_identifier, k.key, true)]),
        );
      }
      return keys.get(id);
    },
  };
}

const LocalKeysSchema = z.object({
  public_keys: z.array(z.object({ key_identifier: z.string().min(1), key: z.string().min(1) })),
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `POST /github/secret-scanning` on the local server: public keys from GITHUB_API_URL (or the file offline). */
export function secretScanningRoute(ctx: RunnerContext): Route {
  const logger = createLogger("secret-scanning");
  const { github } = ctx.settings;
  const publicKeys = github.apiUrl
    ? createGitHubPublicKeys({
        apiUrl: github.apiUrl,
        ...(github.token ? { token: github.token } : {}),
        clock: ctx.clock,
        logger,
      })
    : fileBackedPublicKeys(resolve(ctx.settings.home, LOCAL_PUBLIC_KEYS_FILE));
  const handler = makeSecretScanningHandler({
    recordFindings: createFindingRecorder({
      client: ctx.env.client,
      tables: ctx.env.tables,
      clock: ctx.clock,
    }),
    publicKeys,
    prefixes: ctx.settings.keyPrefixes,
    clock: ctx.clock,
    logger,
    recordHealth: (health) => recordScannerHealth(ctx.env.client, ctx.env.tables.state, health),
  });
  return { method: "POST", path: "/github/secret-scanning", handler };
}
