import { z } from "zod";
import { HoneypotSchema, ReporterEmailSchema } from "./report.js";
import type { Alert } from "./security-alert.js";

/** How long a misuse report (and the reply address in it) is kept: the same as a key report. */
export const MISUSE_RETENTION_DAYS = 30;

const KEY_ID = /^[0-9a-f]{16}$/;
const REDACTED = /^[a-z]{2,10}_[0-9A-Za-z]{4}(?:…|\.\.\.)[0-9A-Za-z]{4}$/;

/**
 * "Think your key was misused?" without pasting it: the key id from the owner's dashboard or
 * the redacted form, and what they saw. Field names are the form's input names.
 */
export const MisuseReportSchema = z.object({
  kind: z.literal("misuse"),
  keyRef: z
    .string({ error: "Give the key id or the shortened key from your dashboard." })
    .trim()
    .transform((value) => value.replace("...", "…"))
    .refine((value) => KEY_ID.test(value.toLowerCase()) || REDACTED.test(value), {
      message:
        "Give the 16-character key id (e.g. 3f9a0c…) or the shortened key (e.g. smk_AbCd…wXyZ) from your dashboard.",
    })
    .transform((value) => (KEY_ID.test(value.toLowerCase()) ? value.toLowerCase() : value)),
  description: z
    .string({ error: "Tell us what you saw." })
    .trim()
    .min(1, "Tell us what you saw: requests you didn't make, charges, a place the key appeared.")
    .max(4_000, 'Keep "what you saw" under 4000 characters.'),
  email: ReporterEmailSchema,
  subject: HoneypotSchema,
});
export type MisuseReport = z.infer<typeof MisuseReportSchema>;

export interface MisuseReportRecord {
  pk: `REPORT#${string}`;
  reportId: string;
  kind: "misuse";
  receivedAt: string;
  /** The key id (16 hex) or redacted key the reporter gave: never a key. */
  keyRef: string;
  description: string;
  reporterEmail?: string;
  expiresAt: number;
}

export function misuseRecordFor(
  reportId: string,
  report: MisuseReport,
  receivedAt: Date,
): MisuseReportRecord {
  return {
    pk: `REPORT#${reportId}`,
    reportId,
    kind: "misuse",
    receivedAt: receivedAt.toISOString(),
    keyRef: report.keyRef,
    description: report.description,
    ...(report.email ? { reporterEmail: report.email } : {}),
    expiresAt: Math.floor(receivedAt.getTime() / 1000) + MISUSE_RETENTION_DAYS * 86_400,
  };
}

/** What the security team learns; the registry match is for them only, never for the reporter. */
export interface KeyMatch {
  projectId: string;
  status: string;
}

export function misuseAlert(
  record: MisuseReportRecord,
  reference: string,
  match: KeyMatch | undefined,
): Alert {
  return {
    topic: "security",
    message: {
      kind: "misuse_reported",
      reportId: record.reportId,
      reference,
      keyRef: record.keyRef,
      registered: match !== undefined,
      ...(match ? { projectId: match.projectId, keyStatus: match.status } : {}),
      description: record.description,
      withReplyAddress: record.reporterEmail !== undefined,
      receivedAt: record.receivedAt,
    },
    attributes: { severity: "medium", source: ["user_report"], kind: "misuse_reported" },
  };
}
