import { createHash } from "node:crypto";
import { z } from "zod";
import { type Finding, LocationSchema } from "./finding.js";
import { isValidKey, keyHash, redactKey } from "./key-format.js";

/** `source` values GitHub documents; compared case-insensitively, and others are accepted as they come. */
export const KNOWN_ALERT_SOURCES = [
  "content",
  "commit",
  "pull_request_title",
  "pull_request_description",
  "pull_request_comment",
  "issue_title",
  "issue_description",
  "issue_comment",
  "discussion_title",
  "discussion_body",
  "discussion_comment",
  "commit_comment",
  "gist_content",
  "gist_comment",
  "npm",
  "wiki_content",
  "unknown",
] as const;

/**
 * Most alerts one delivery may carry. GitHub batches matches and asks endpoints to take "a large
 * number of matches without timing out" (docs/github-secret-scanning.md), so a big batch is
 * processed in chunks; past this cap (several times what bench/partner-webhook.bench.ts shows
 * fits in the response budget) it is refused whole (413) rather than half processed.
 */
export const MAX_ALERTS_PER_DELIVERY = 5_000;

/** One match GitHub sends: `[{"token", "type", "url", "source"}]`. Unknown extra fields are dropped. */
export const SecretScanningAlertSchema = z.object({
  token: z.string().min(1).max(1024),
  type: z.string().min(1).max(128),
  /** The public URL of the match; GitHub documents that it may be empty. */
  url: z.string().max(4096),
  /** Older deliveries had no `source`: those count as "unknown". */
  source: z
    .string()
    .max(64)
    .optional()
    .transform((source) => source?.trim().toLowerCase() || "unknown"),
});
export type SecretScanningAlert = z.infer<typeof SecretScanningAlertSchema>;

export const SecretScanningBatchSchema = z.array(SecretScanningAlertSchema).max(MAX_ALERTS_PER_DELIVERY);

export type BatchParseResult =
  | { ok: true; alerts: SecretScanningAlert[] }
  | { ok: false; reason: "not_utf8" | "not_json" | "not_an_array" | "invalid_shape"; detail: string }
  | { ok: false; reason: "too_many_alerts"; detail: string };

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decodes and validates a delivery body (already authenticated): strict UTF-8, JSON, then the schema. */
export function parseSecretScanningBatch(body: Uint8Array): BatchParseResult {
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    return { ok: false, reason: "not_utf8", detail: "body is not valid UTF-8" };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not_json", detail: "body is not JSON" };
  }
  if (!Array.isArray(json)) return { ok: false, reason: "not_an_array", detail: "body is not a JSON array" };
  if (json.length > MAX_ALERTS_PER_DELIVERY) {
    return {
      ok: false,
      reason: "too_many_alerts",
      detail: `${json.length} alerts in one delivery; at most ${MAX_ALERTS_PER_DELIVERY} are accepted`,
    };
  }
  const parsed = SecretScanningBatchSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first && first.path.length > 0 ? `at ${first.path.join(".")}: ` : "";
    return { ok: false, reason: "invalid_shape", detail: `${where}${first?.message ?? "invalid alert"}` };
  }
  return { ok: true, alerts: parsed.data };
}

/** GitHub's `token_hash`: lowercase hex SHA-256 of the token's UTF-8 bytes (equal to keyHash for keys). */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Findings for the alerts whose token is a well-formed key with one of our prefixes (checksum included). */
export function findingsFromAlerts(
  alerts: readonly SecretScanningAlert[],
  options: { prefixes: readonly string[]; seenAt: Date },
): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const alert of alerts) {
    if (!isValidKey(alert.token, options.prefixes)) continue;
    const hash = keyHash(alert.token);
    const identity = `${hash} ${alert.url} ${alert.source}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    const withUrl = LocationSchema.safeParse({ url: alert.url, kind: alert.source });
    findings.push({
      keyHash: hash,
      redacted: redactKey(alert.token),
      source: "github_partner",
      // An empty or non-URL `url` still leaves a finding, located by its source only.
      location: withUrl.success ? withUrl.data : { kind: alert.source },
      seenAt: options.seenAt.toISOString(),
    });
  }
  return findings;
}

export interface TokenLabel {
  token_hash: string;
  token_type: string;
  label: "true_positive" | "false_positive";
}

/** One label per alert, in order: true_positive only for tokens that are registered keys of ours. */
export function labelAlerts(
  alerts: readonly SecretScanningAlert[],
  registeredKeyHashes: ReadonlySet<string>,
): TokenLabel[] {
  return alerts.map((alert) => {
    const hash = tokenHash(alert.token);
    return {
      token_hash: hash,
      token_type: alert.type,
      label: registeredKeyHashes.has(hash) ? "true_positive" : "false_positive",
    };
  });
}
