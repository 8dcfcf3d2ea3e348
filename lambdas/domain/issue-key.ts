import type { Clock } from "./clock.js";
import { DEFAULT_PREFIX, generateKey, keyHash, keyIdOf, redactKey } from "./key-format.js";
import type { KeyRecord, KeyRepository } from "./key-record.js";

export interface IssuedKey {
  /** Shown once, to the caller; never stored. */
  rawKey: string;
  record: KeyRecord;
}

/** Issues a new key for a project: stores only its hash and redacted form, returns the raw key once. */
export async function issueKey(
  projectId: string,
  ownerEmail: string,
  deps: { keys: KeyRepository; clock: Clock; prefix?: string },
): Promise<IssuedKey> {
  const rawKey = generateKey(deps.prefix ?? DEFAULT_PREFIX);
  const hash = keyHash(rawKey);
  const now = deps.clock.now().toISOString();
  const record: KeyRecord = {
    keyHash: hash,
    keyId: keyIdOf(hash),
    projectId,
    ownerEmail,
    status: "active",
    redacted: redactKey(rawKey),
    createdAt: now,
    updatedAt: now,
  };
  await deps.keys.create(record);
  return { rawKey, record };
}
