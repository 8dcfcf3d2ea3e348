import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from "aws-lambda";
import { z } from "zod";
import { type Clock, systemClock } from "../adapters/clock.js";
import { KeyPrefixesSchema, readEnv, tableNamesFromEnv } from "../adapters/config.js";
import { createDocumentClient } from "../adapters/dynamodb-client.js";
import { createKeyRepository } from "../adapters/dynamodb-key-repository.js";
import { createLogger } from "../adapters/logger.js";
import { isValidKey, keyHash, keyIdOf, MAX_KEY_LENGTH } from "../domain/key-format.js";
import type { KeyRecord, KeyRepository } from "../domain/key-record.js";

const logger = createLogger("key-authorizer");

export interface KeyAuthorizerContext {
  keyId: string;
  projectId: string;
}
export type KeyAuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<KeyAuthorizerContext>;

/** The bound: a quarantined key is refused within a minute everywhere. */
export const MAX_CACHE_TTL_MS = 60_000;

export interface KeyAuthorizerDeps {
  keys: Pick<KeyRepository, "get">;
  prefixes: readonly string[];
  cacheTtlMs?: number;
  clock?: Clock;
}

const HeaderValueSchema = z
  .string()
  .trim()
  .min(1)
  .max(MAX_KEY_LENGTH + 16);

/** The presented key: `x-api-key`, or `Authorization: Bearer <key>`. */
export function presentedKey(headers: Record<string, string | undefined> | undefined): string | undefined {
  const apiKey = HeaderValueSchema.safeParse(headers?.["x-api-key"]);
  if (apiKey.success) return apiKey.data;
  const auth = HeaderValueSchema.safeParse(headers?.authorization);
  if (!auth.success) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(auth.data);
  return match?.[1];
}

/**
 * API Gateway (HTTP API, simple responses) REQUEST authorizer: hashes the presented key, looks
 * it up (cached ≤ 60 s, denials included), allows only active keys, and passes keyId and projectId.
 */
export function makeKeyAuthorizerHandler(deps: KeyAuthorizerDeps) {
  const ttl = Math.min(deps.cacheTtlMs ?? 30_000, MAX_CACHE_TTL_MS);
  const clock = deps.clock ?? systemClock;
  const cache = new Map<string, { record: KeyRecord | undefined; until: number }>();

  async function lookup(hash: string): Promise<KeyRecord | undefined> {
    const now = clock.now().getTime();
    const hit = cache.get(hash);
    if (hit && hit.until > now) return hit.record;
    const record = await deps.keys.get(hash);
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { record, until: now + ttl });
    return record;
  }

  return async (event: APIGatewayRequestAuthorizerEventV2): Promise<KeyAuthorizerResult> => {
    const key = presentedKey(event.headers);
    // A value that isn't a valid key (checksum) is refused without a table read.
    if (!key || !isValidKey(key, deps.prefixes)) {
      logger.info("denied", { reason: key ? "malformed" : "missing" });
      return { isAuthorized: false, context: { keyId: "", projectId: "" } };
    }
    const hash = keyHash(key);
    const keyId = keyIdOf(hash);
    const record = await lookup(hash);
    if (record?.status !== "active") {
      logger.info("denied", { keyId, reason: record ? record.status : "unknown" });
      return { isAuthorized: false, context: { keyId, projectId: record?.projectId ?? "" } };
    }
    return { isAuthorized: true, context: { keyId, projectId: record.projectId } };
  };
}

let wired: ReturnType<typeof makeKeyAuthorizerHandler> | undefined;

export async function handler(event: APIGatewayRequestAuthorizerEventV2): Promise<KeyAuthorizerResult> {
  if (!wired) {
    const env = readEnv(
      z.object({
        KEY_PREFIXES: KeyPrefixesSchema,
        KEY_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(30_000),
      }),
    );
    const tables = tableNamesFromEnv(["keys"]);
    wired = makeKeyAuthorizerHandler({
      keys: createKeyRepository(createDocumentClient(), tables.keys),
      prefixes: env.KEY_PREFIXES,
      cacheTtlMs: env.KEY_CACHE_TTL_MS,
    });
  }
  return wired(event);
}
