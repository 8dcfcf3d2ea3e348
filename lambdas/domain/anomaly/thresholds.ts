import { z } from "zod";

/**
 * Every detector threshold, with the defaults docs/anomaly-detection.md explains (and the
 * evaluation that set them). Deployments override any subset through `ANOMALY_THRESHOLDS`.
 */
export const AnomalyThresholdsSchema = z
  .object({
    /** Minutes a minute stays open for late lines before its detectors run. */
    latenessMinutes: z.number().int().min(0).max(10).default(2),
    /** A key's first hours: what they show is trusted only if it looks like the owner's set-up. */
    learningMinutes: z.number().int().min(0).default(360),
    rate: z
      .object({
        /** A minute is a spike above `factorMedium` x the key's envelope (and at least minRequests). */
        minRequests: z.number().int().min(1).default(30),
        factorMedium: z.number().min(1).default(4),
        factorHigh: z.number().min(1).default(10),
        /** Whatever the network, this far above the envelope is high. */
        factorCertain: z.number().min(1).default(25),
        /** Envelope floor: no key's normal is below this many requests a minute. */
        floor: z.number().min(1).default(5),
        /** The envelope is at least this share of the key's all-hours peak. */
        allHoursShare: z.number().min(0).max(1).default(0.25),
        /** Peaks of past days decay by this factor a day (a key's normal can shrink). */
        dailyDecay: z.number().min(0).max(1).default(0.9),
        /** This many keys spiking in the same minute (or this share of active keys) is one platform event. */
        platformKeys: z.number().int().min(2).default(5),
        platformShare: z.number().min(0).max(1).default(0.05),
      })
      .prefault({}),
    fanout: z
      .object({
        /** Distinct /24s in an hour above factor x the key's hourly history (and above min). */
        hourMinNetworks: z.number().int().min(2).default(10),
        dayMinNetworks: z.number().int().min(2).default(20),
        factor: z.number().min(1).default(3),
        /** Distinct providers in an hour for a high. */
        hourMinProviders: z.number().int().min(2).default(6),
      })
      .prefault({}),
    novelty: z
      .object({
        /** Keys already used from this many providers or countries are global: novelty is at most low. */
        globalProviders: z.number().int().min(2).default(8),
        globalCountries: z.number().int().min(2).default(4),
        /** A different country within this many minutes of the last use is impossible travel. */
        impossibleTravelMinutes: z.number().int().min(1).default(180),
      })
      .prefault({}),
    refusals: z
      .object({
        /** Distinct refused keys in 5 minutes, all networks: floors and factors over the recent history. */
        globalMedium: z.number().int().min(2).default(50),
        globalHigh: z.number().int().min(2).default(100),
        globalFactor: z.number().min(1).default(4),
        /** Distinct refused keys per provider (ASN) in 5 minutes. */
        providerMedium: z.number().int().min(2).default(25),
        providerHigh: z.number().int().min(2).default(60),
        /** Refused requests from one /24 in 5 minutes, keyless and bad-checksum attempts included. */
        networkRequestsMedium: z.number().int().min(2).default(50),
        networkRequestsHigh: z.number().int().min(2).default(200),
        /** Distinct refused keys from one /24 in 5 minutes. */
        networkKeysMedium: z.number().int().min(2).default(10),
        networkKeysHigh: z.number().int().min(2).default(40),
        /** One hour: distinct refused keys, all networks / per provider. */
        hourGlobalHigh: z.number().int().min(2).default(400),
        hourProviderHigh: z.number().int().min(2).default(150),
        /** Stale polling: at most this many keys, repeating with this overlap for this many windows. */
        staleMaxKeys: z.number().int().min(1).default(30),
        staleOverlap: z.number().min(0).max(1).default(0.7),
        staleWindows: z.number().int().min(2).default(3),
      })
      .prefault({}),
    useAfterLeak: z
      .object({
        /** Networks first seen less than this before the leak are not trusted as the owner's. */
        ownerBeforeLeakMinutes: z.number().int().min(0).default(360),
      })
      .prefault({}),
    episodes: z
      .object({
        /** Evidence of one subject and type closer than this belongs to one episode. */
        gapMinutes: z.number().int().min(1).default(60),
      })
      .prefault({}),
    /** Caps that keep a key's profile item small (DynamoDB bills per KB written). */
    caps: z
      .object({
        networks: z.number().int().min(8).max(400).default(64),
        providers: z.number().int().min(4).max(64).default(24),
        countries: z.number().int().min(2).max(64).default(16),
        families: z.number().int().min(2).max(32).default(8),
      })
      .prefault({}),
  })
  .strict();

export type AnomalyThresholds = z.infer<typeof AnomalyThresholdsSchema>;

export const DEFAULT_THRESHOLDS: AnomalyThresholds = AnomalyThresholdsSchema.parse({});
