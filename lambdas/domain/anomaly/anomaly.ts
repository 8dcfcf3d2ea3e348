import { z } from "zod";

export const AnomalyTypeSchema = z.enum([
  "new_country",
  "ip_fanout",
  "rate_spike",
  "credential_stuffing",
  "use_after_leak",
  // A provider, client family or country new to the key (Okta/Auth0-style "new device/network").
  "new_network",
]);
export type AnomalyType = z.infer<typeof AnomalyTypeSchema>;

export const SeveritySchema = z.enum(["low", "medium", "high"]);
export type Severity = z.infer<typeof SeveritySchema>;

/** The anomaly shape DESIGN.md "Access logs and anomalies" fixes; windows are ISO 8601 times. */
export const AnomalySchema = z
  .object({
    type: AnomalyTypeSchema,
    severity: SeveritySchema,
    keyId: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .optional(),
    projectId: z.string().max(128).optional(),
    /** Truncated CIDR (/24 or /48): the client network the evidence points at. */
    ipPrefix: z.string().max(64).optional(),
    countries: z.array(z.string().regex(/^[A-Z]{2}$/)).optional(),
    windowStart: z.string().datetime(),
    windowEnd: z.string().datetime(),
    count: z.number().int().nonnegative(),
    incidentId: z.string().max(128).optional(),
    /** Autonomous system and its provider name, when the evidence is a network or provider. */
    asn: z.number().int().nonnegative().optional(),
    provider: z.string().max(64).optional(),
    /** Episode: the largest single-window count and when it was seen (windowStart..windowEnd spans the episode). */
    peakCount: z.number().int().nonnegative().optional(),
    peakAt: z.string().datetime().optional(),
    /** What the detector saw, in words (no address, no key). */
    reason: z.string().max(200).optional(),
  })
  .strict();
export type Anomaly = z.infer<typeof AnomalySchema>;

const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2 };

export function atLeast(severity: Severity, floor: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[floor];
}

export const MINUTE_MS = 60_000;

/** ISO window of `minutes` minutes starting at epoch minute `minute`. */
export function minuteWindow(minute: number, minutes = 1): { windowStart: string; windowEnd: string } {
  return {
    windowStart: new Date(minute * MINUTE_MS).toISOString(),
    windowEnd: new Date((minute + minutes) * MINUTE_MS).toISOString(),
  };
}
