import { z } from "zod";

/** Where a leaked key was found. Each detection channel produces findings; only recordFindings decides what they mean. */
export const FindingSourceSchema = z.enum([
  "github_partner",
  "github_event",
  "github_code_search",
  "user_report",
]);
export type FindingSource = z.infer<typeof FindingSourceSchema>;

export const KeyHashSchema = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase sha256 hex key hash");

/** Where the key was seen; every field optional because channels know different things. */
export const LocationSchema = z
  .object({
    url: z.string().url().max(2048).optional(),
    repo: z.string().max(200).optional(),
    commit: z.string().max(64).optional(),
    path: z.string().max(1024).optional(),
    line: z.number().int().positive().optional(),
    /** Free-form channel detail, e.g. the partner program's `source` ("commit", "issue_comment"). */
    kind: z.string().max(64).optional(),
  })
  .strict();
export type Location = z.infer<typeof LocationSchema>;

export const FindingSchema = z
  .object({
    keyHash: KeyHashSchema,
    redacted: z.string().min(1).max(64),
    source: FindingSourceSchema,
    location: LocationSchema,
    /** ISO 8601 time the channel saw the key. */
    seenAt: z.string().datetime(),
    /** A user report's id, linking the finding to the report (and the reporter's reply address). */
    reportId: z.string().max(64).optional(),
  })
  .strict();
export type Finding = z.infer<typeof FindingSchema>;

/** What recordFindings says about each finding, in input order. */
export interface FindingOutcome {
  keyHash: string;
  /** `registered`: a key of ours (true positive); `unknown`: valid format, not in the registry. */
  status: "registered" | "unknown";
  incidentId: string;
  /** False when this location was already known for the incident (replay, duplicate). */
  newOccurrence: boolean;
}

/** What a detection channel depends on: recordFindings with its repositories already bound. */
export type RecordFindings = (
  findings: Finding[],
  /** `shouldStop`: asked between chunks; true ends the call with RecordFindingsInterruptedError. */
  options?: { shouldStop?: () => boolean },
) => Promise<FindingOutcome[]>;
