/**
 * What the bench tells its publisher process (env BENCH_PUBLISHER_CONFIG) and what the publisher
 * reports back (JSON lines on stdout). Both directions cross a process boundary, so both are zod.
 */
import { z } from 'zod';

export const publisherConfigSchema = z
  .object({
    url: z.string().min(1),
    clientId: z.string().min(1),
    readings: z.number().int().min(1),
    perMessage: z.number().int().min(1).max(5_000),
    /** PUBLISHes awaiting PUBACK at most. */
    maxInflight: z.number().int().min(1).max(65_535).default(200),
    /** Readings per second; 0 = as fast as the broker acknowledges. */
    rate: z.number().min(0).default(0),
    bucketMs: z.number().int().min(1).default(10),
    reportEveryMs: z.number().int().min(1).default(100),
  })
  .strict();
export type PublisherConfig = z.input<typeof publisherConfigSchema>;

export const publisherMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('buckets'),
    /** Every bucket strictly before this one is complete (no more readings will be stamped in it). */
    finalBefore: z.number(),
    /** [bucket start ms, readings stamped in it]. */
    counts: z.array(z.tuple([z.number(), z.number().int()])),
  }),
  z.object({
    type: z.literal('done'),
    published: z.number().int(),
    messages: z.number().int(),
    firstPublishMs: z.number(),
    lastPublishMs: z.number(),
    lastAckMs: z.number(),
  }),
]);
export type PublisherMessage = z.infer<typeof publisherMessageSchema>;
