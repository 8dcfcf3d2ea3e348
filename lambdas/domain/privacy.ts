import { createHash } from "node:crypto";
import { z } from "zod";

/** An email address as privacy requests name it; compared case-insensitively. */
export const PrivacyEmailSchema = z
  .string()
  .trim()
  .max(320)
  .email("expected an email address")
  .transform((email) => email.toLowerCase());

export class PrivacyRequestError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PrivacyRequestError";
  }
}

/** A key the person owns, as exported: hash and redacted form only, never the raw key. */
export interface OwnedKey {
  keyHash: string;
  keyId?: string;
  redacted?: string;
  projectId?: string;
  status?: string;
  createdAt?: string;
  incidentId?: string;
}

/** A report the person sent (reply address given). */
export interface SentReport {
  reportId: string;
  receivedAt?: string;
  /** Every other stored attribute of the report, as held. */
  fields: Record<string, unknown>;
}

/** Any other stored item whose attributes mention the address (safety net over every table). */
export interface Mention {
  table: string;
  key: Record<string, string>;
  attributes: string[];
}

/** A notification addressed to the person (locally: an .eml in the outbox). */
export interface SentNotification {
  id: string;
  subject?: string;
  sentAt?: string;
}

/** What a privacy request touches; the DynamoDB/outbox adapter implements it. */
export interface PersonalDataStore {
  keysOwnedBy(email: string): Promise<OwnedKey[]>;
  reportsSentBy(email: string): Promise<SentReport[]>;
  notificationsTo(email: string): Promise<SentNotification[]>;
  /** Items outside the indexed places whose attribute values contain the address. */
  mentionsOf(email: string): Promise<Mention[]>;
  /** Removes the owner address from a key; the hash, status and incident link stay. */
  detachOwner(keyHash: string, at: string): Promise<void>;
  deleteReport(reportId: string): Promise<void>;
  deleteNotification(id: string): Promise<void>;
  /** Rewrites the named attributes with the address replaced by "[erased]". */
  redactMention(mention: Mention, email: string): Promise<void>;
  /** The erasure record (audit trail): holds the subject's hash, never the address. */
  recordErasure(entry: ErasureRecord): Promise<void>;
}

export interface PersonalDataExport {
  subject: string;
  exportedAt: string;
  keys: OwnedKey[];
  reports: SentReport[];
  notifications: SentNotification[];
  otherMentions: Mention[];
}

export interface ErasureRecord {
  erasureId: string;
  /** sha256 of the normalised address: answers "was this person erased?" without keeping the address. */
  subjectHash: string;
  at: string;
  actor: string;
  keysDetached: number;
  reportsDeleted: number;
  notificationsDeleted: number;
  mentionsRedacted: number;
}

export function subjectHashOf(email: string): string {
  return createHash("sha256").update(email.trim().toLowerCase(), "utf8").digest("hex");
}

function parseEmail(email: string): string {
  const parsed = PrivacyEmailSchema.safeParse(email);
  if (!parsed.success) throw new PrivacyRequestError(`invalid --email: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** Everything held about a person (GDPR access / CCPA right to know). */
export async function exportPersonalData(
  email: string,
  deps: { store: PersonalDataStore; now: () => Date },
): Promise<PersonalDataExport> {
  const subject = parseEmail(email);
  const [keys, reports, notifications, otherMentions] = await Promise.all([
    deps.store.keysOwnedBy(subject),
    deps.store.reportsSentBy(subject),
    deps.store.notificationsTo(subject),
    deps.store.mentionsOf(subject),
  ]);
  return { subject, exportedAt: deps.now().toISOString(), keys, reports, notifications, otherMentions };
}

/**
 * Erases a person (GDPR art. 17 / CCPA deletion): the address leaves every key, report and
 * notification; key hashes, statuses and incidents stay because they protect everyone.
 */
export async function erasePersonalData(
  email: string,
  deps: { store: PersonalDataStore; now: () => Date; actor: string; newId: () => string },
): Promise<ErasureRecord> {
  const subject = parseEmail(email);
  const at = deps.now().toISOString();
  const { store } = deps;
  const [keys, reports, notifications, mentions] = await Promise.all([
    store.keysOwnedBy(subject),
    store.reportsSentBy(subject),
    store.notificationsTo(subject),
    store.mentionsOf(subject),
  ]);
  for (const key of keys) await store.detachOwner(key.keyHash, at);
  for (const report of reports) await store.deleteReport(report.reportId);
  for (const notification of notifications) await store.deleteNotification(notification.id);
  for (const mention of mentions) await store.redactMention(mention, subject);
  const record: ErasureRecord = {
    erasureId: deps.newId(),
    subjectHash: subjectHashOf(subject),
    at,
    actor: deps.actor,
    keysDetached: keys.length,
    reportsDeleted: reports.length,
    notificationsDeleted: notifications.length,
    mentionsRedacted: mentions.length,
  };
  await store.recordErasure(record);
  return record;
}
