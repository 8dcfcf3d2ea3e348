import { z } from "zod";

/** An EventBridge schedule's event: the only thing that should invoke a scheduled scanner. */
export const ScheduledEventSchema = z
  .object({
    source: z.literal("aws.events"),
    "detail-type": z.literal("Scheduled Event"),
    time: z.string().max(64),
  })
  .passthrough();
export type ScheduledEvent = z.infer<typeof ScheduledEventSchema>;
