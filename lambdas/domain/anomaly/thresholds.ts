import { z } from "zod";

/**
 * Every detector threshold, with the defaults docs/anomaly-detection.md explains. Deployments
 * override any subset through the `ANOMALY_THRESHOLDS` JSON setting.
 */
export const AnomalyThresholdsSchema = z
  .object({
    /** EWMA smoothing factor per minute: 2/(N+1) with N = 60 minutes of memory. */
    ewmaAlpha: z
      .number()
      .gt(0)
      .lt(1)
      .default(2 / 61),
    /** Minutes of history (idle minutes included) before rate_spike / ip_fanout may fire. */
    warmupMinutes: z.number().int().min(1).default(60),
    rateSpike: z
      .object({
        minRequests: z.number().int().min(1).default(30),
        zMedium: z.number().positive().default(6),
        zHigh: z.number().positive().default(12),
        /** The minute must also be this many times the mean (a z-score alone over-fires on tiny means). */
        ratioMedium: z.number().min(1).default(3),
        ratioHigh: z.number().min(1).default(10),
      })
      .prefault({}),
    ipFanout: z
      .object({
        minPrefixes: z.number().int().min(2).default(8),
        zMedium: z.number().positive().default(6),
        zHigh: z.number().positive().default(12),
        ratioMedium: z.number().min(1).default(3),
        highPrefixes: z.number().int().min(2).default(40),
      })
      .prefault({}),
    newCountry: z
      .object({
        historyDays: z.number().int().min(1).default(30),
        /** A key younger than this (minutes since first request) or with fewer requests is still learning. */
        learningMinutes: z.number().int().min(0).default(120),
        learningRequests: z.number().int().min(0).default(50),
        /** Keys already used from this many countries are global: a new one is only `low`. */
        globalCountries: z.number().int().min(1).default(4),
      })
      .prefault({}),
    credentialStuffing: z
      .object({
        windowMinutes: z.number().int().min(1).max(60).default(5),
        minDistinctKeys: z.number().int().min(2).default(10),
        highDistinctKeys: z.number().int().min(2).default(40),
      })
      .prefault({}),
    useAfterLeak: z
      .object({
        /** Requests from a network never seen for the key, this soon after the leak, are `high`. */
        newPrefixHours: z.number().positive().default(72),
      })
      .prefault({}),
    /** Distinct client networks remembered per key (by HMAC) for the use_after_leak new-prefix rule. */
    prefixHistoryCap: z.number().int().min(8).max(1000).default(200),
  })
  .strict();

export type AnomalyThresholds = z.infer<typeof AnomalyThresholdsSchema>;

export const DEFAULT_THRESHOLDS: AnomalyThresholds = AnomalyThresholdsSchema.parse({});
