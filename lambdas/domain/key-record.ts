/** A key's lifecycle: `compromised` is set by quarantine, `revoked` by its owner or an operator. */
export type KeyStatus = "active" | "compromised" | "revoked";

/** One issued key as the registry holds it: never the raw key, only its hash and redacted form. */
export interface KeyRecord {
  keyHash: string;
  /** First 16 hex of keyHash: what the authorizer and the access logs carry. */
  keyId: string;
  projectId: string;
  /** Absent once the owner's contact was erased (`keywatch privacy delete`): no email is possible. */
  ownerEmail?: string;
  status: KeyStatus;
  redacted: string;
  createdAt: string;
  updatedAt: string;
  /** Set by quarantine. */
  compromisedAt?: string;
  incidentId?: string;
  revokedAt?: string;
}

export interface KeyPage {
  keys: KeyRecord[];
  /** Opaque; pass back to get the next page. */
  cursor?: string;
}

/** The key registry port; the DynamoDB adapter implements it over the keys table. */
export interface KeyRepository {
  get(keyHash: string): Promise<KeyRecord | undefined>;
  getByKeyId(keyId: string): Promise<KeyRecord | undefined>;
  /** Fails with KeyExistsError if the hash is already registered. */
  create(record: KeyRecord): Promise<void>;
  /**
   * active → compromised, conditionally (concurrent findings can't race); returns false when
   * the key was not active (already quarantined or revoked).
   */
  quarantine(keyHash: string, incidentId: string, at: string): Promise<boolean>;
  /** Any status → revoked; returns the updated record, or undefined for an unknown hash. */
  revoke(keyHash: string, at: string): Promise<KeyRecord | undefined>;
  list(options?: { limit?: number; cursor?: string }): Promise<KeyPage>;
}

export class KeyExistsError extends Error {
  constructor(keyId: string, options?: { cause?: unknown }) {
    super(`key ${keyId} is already registered`, options);
    this.name = "KeyExistsError";
  }
}
