import { z } from "zod";
import type { Finding } from "./finding.js";
import { type ScanFinding, scanBuffer } from "./key-scanner.js";
import { scanForms } from "./text-normalisation.js";

/** Largest request body the report API takes (form-encoded or JSON). */
export const REPORT_MAX_BODY_BYTES = 64 * 1024;
export const REPORT_DESCRIPTION_MAX_CHARS = 4_000;
/** `location.kind` of report findings. */
export const REPORT_LOCATION_KIND = "report_form";
/** How long a report (and the reporter's reply address in it) is kept. */
export const REPORT_RETENTION_DAYS = 30;
/**
 * Most distinct keys one report may carry. 64 KiB holds at most ~1,520 delimited keys, so every
 * report the body limit lets through fits; the cap keeps the work per report bounded if that
 * limit is ever raised, and a report over it is refused whole with a clear answer, not half recorded.
 */
export const MAX_KEYS_PER_REPORT = 1_600;
/** Base62 characters after a known prefix that make a token "key-shaped" (a key has 38). */
const KEY_SHAPED_MIN_TAIL = 20;

const emptyToUndefined = (value: unknown) =>
  typeof value === "string" && value.trim() === "" ? undefined : value;

/** The optional reply address of a report or a misuse report. */
export const ReporterEmailSchema = z.preprocess(
  emptyToUndefined,
  z
    .string({ error: "The email address must be text." })
    .trim()
    .max(254, "The email address is too long.")
    .pipe(z.email({ error: "Give a valid email address, or leave it empty." }))
    // The privacy export/delete looks reporters up by the lower-cased address.
    .transform((email) => email.toLowerCase())
    .optional(),
);

/** Honeypot: hidden from people (and from autofill, which has no "subject" category), filled by bots. */
export const HoneypotSchema = z.preprocess(emptyToUndefined, z.string().max(2048).optional());

/** What a reporter sends, from the form or as JSON. Field names are the form's input names. */
export const ReportSubmissionSchema = z.object({
  text: z
    .string({ error: "Paste the key, or the text that contains it." })
    .trim()
    .min(1, "Paste the key, or the text that contains it.")
    .max(REPORT_MAX_BODY_BYTES, "The text is longer than 64 KiB."),
  url: z.preprocess(
    emptyToUndefined,
    z
      .string({ error: "The address must be text." })
      .trim()
      .max(2048, "The address is longer than 2048 characters.")
      .pipe(z.httpUrl({ error: "Give a full http(s) address, e.g. https://github.com/org/repo/…" }))
      .optional(),
  ),
  description: z.preprocess(
    emptyToUndefined,
    z
      .string({ error: "What happened must be text." })
      .trim()
      .max(
        REPORT_DESCRIPTION_MAX_CHARS,
        `Keep "what happened" under ${REPORT_DESCRIPTION_MAX_CHARS} characters.`,
      )
      .optional(),
  ),
  email: ReporterEmailSchema,
  subject: HoneypotSchema,
});
export type ReportSubmission = z.infer<typeof ReportSubmissionSchema>;

/** The answers a report can get; none depends on whether a key is registered. */
export type ReportVerdict = "keys_found" | "no_valid_key" | "no_key_shaped_token" | "too_many_keys";

export interface ReportAnalysis {
  verdict: ReportVerdict;
  /** Valid keys (check digits match) across every field, one per key hash, in order of appearance. */
  keys: ScanFinding[];
  /** Tokens that start like a key (a known prefix and a long base62 run), valid or not. */
  keyShapedTokens: number;
  /** The URL and description are kept only when they hold nothing key-shaped. */
  urlHoldsKeyShapedToken: boolean;
  descriptionHoldsKeyShapedToken: boolean;
  honeypotFilled: boolean;
}

function keyShapedPattern(prefixes: readonly string[]): RegExp {
  // Prefixes are `[a-z]{2,10}_` (validated at config time), so they need no escaping.
  return new RegExp(`(?<![0-9A-Za-z])(?:${prefixes.join("|")})[0-9A-Za-z]{${KEY_SHAPED_MIN_TAIL},}`, "g");
}

/** Tokens that look like a key of ours, whether or not their check digits match. */
export function countKeyShapedTokens(text: string, prefixes: readonly string[]): number {
  return text.match(keyShapedPattern(prefixes))?.length ?? 0;
}

/**
 * Scans every free-text field of a report for keys, in the raw text and in its decoded form
 * (percent-encoding, HTML references, invisible characters: see text-normalisation.ts), so an
 * obfuscated key is found, and withheld, like a plain one. Pure: the answer can't depend on the registry.
 */
export function analyseReport(
  submission: ReportSubmission,
  prefixes: readonly string[],
  options: { maxKeys?: number } = {},
): ReportAnalysis {
  const fields = [submission.text, submission.url ?? "", submission.description ?? ""];
  const keys = new Map<string, ScanFinding>();
  const shaped = fields.map((field) => {
    const { forms, tooDeep } = scanForms(field);
    let count = 0;
    for (const form of forms) {
      for (const finding of scanBuffer(form, { prefixes, mode: "text" })) {
        if (!keys.has(finding.keyHash)) keys.set(finding.keyHash, finding);
      }
      count = Math.max(count, countKeyShapedTokens(form, prefixes));
    }
    // Encodings nested past the decoder's rounds are treated as hiding a key: the field is not kept.
    return tooDeep ? Math.max(count, 1) : count;
  });
  const keyShapedTokens = shaped.reduce((sum, n) => sum + n, 0);
  const tooMany = keys.size > (options.maxKeys ?? MAX_KEYS_PER_REPORT);
  return {
    verdict: tooMany
      ? "too_many_keys"
      : keys.size > 0
        ? "keys_found"
        : keyShapedTokens > 0
          ? "no_valid_key"
          : "no_key_shaped_token",
    keys: [...keys.values()],
    keyShapedTokens,
    urlHoldsKeyShapedToken: (shaped[1] ?? 0) > 0,
    descriptionHoldsKeyShapedToken: (shaped[2] ?? 0) > 0,
    honeypotFilled: submission.subject !== undefined,
  };
}

/** The stored report (reports table). Never the pasted text; the URL and description only when key-free. */
export interface ReportRecord {
  pk: `REPORT#${string}`;
  reportId: string;
  /** ISO 8601. */
  receivedAt: string;
  url?: string;
  description?: string;
  /** Only to reply to the reporter; the whole record expires after REPORT_RETENTION_DAYS. */
  reporterEmail?: string;
  /** Distinct valid keys in the report. */
  keysFound: number;
  /** Key-shaped tokens, valid or not. */
  keyShapedTokens: number;
  /** True when the reporter wrote a description that was not kept because it held a key-shaped token. */
  descriptionWithheld: boolean;
  urlWithheld: boolean;
  /** Epoch seconds: DynamoDB's TTL. */
  expiresAt: number;
}

export function reportRecordFor(
  reportId: string,
  submission: ReportSubmission,
  analysis: ReportAnalysis,
  receivedAt: Date,
): ReportRecord {
  const keepUrl = submission.url !== undefined && !analysis.urlHoldsKeyShapedToken;
  const keepDescription = submission.description !== undefined && !analysis.descriptionHoldsKeyShapedToken;
  return {
    pk: `REPORT#${reportId}`,
    reportId,
    receivedAt: receivedAt.toISOString(),
    ...(keepUrl ? { url: submission.url } : {}),
    ...(keepDescription ? { description: submission.description } : {}),
    ...(submission.email !== undefined ? { reporterEmail: submission.email } : {}),
    keysFound: analysis.keys.length,
    keyShapedTokens: analysis.keyShapedTokens,
    descriptionWithheld: submission.description !== undefined && !keepDescription,
    urlWithheld: submission.url !== undefined && !keepUrl,
    expiresAt: Math.floor(receivedAt.getTime() / 1000) + REPORT_RETENTION_DAYS * 86_400,
  };
}

/** One `user_report` finding per distinct valid key, located at the report's URL when it was kept. */
export function findingsForReport(record: ReportRecord, analysis: ReportAnalysis): Finding[] {
  return analysis.keys.map((key) => ({
    keyHash: key.keyHash,
    redacted: key.redacted,
    source: "user_report" as const,
    // `kind` also keeps the location non-empty: an empty map doesn't survive the local stream pump.
    location: { kind: REPORT_LOCATION_KIND, ...(record.url !== undefined ? { url: record.url } : {}) },
    seenAt: record.receivedAt,
    reportId: record.reportId,
  }));
}
