import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { deadlineRequestHandler, SDK_DEADLINES } from "../../lambdas/adapters/dynamodb-client.js";
import { matchesStreamFilters } from "../../lambdas/adapters/notifier-stream-filter.js";

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined>;

export interface StreamPumpOptions {
  /** DynamoDB Local endpoint. */
  endpoint: string;
  tableName: string;
  handler: StreamHandler;
  pollMs?: number;
  batchSize?: number;
  /**
   * Where a shard with no checkpoint starts. TRIM_HORIZON (default) replays what the stream
   * still holds: a first start (or a lost checkpoint) loses no notification.
   */
  startAt?: "TRIM_HORIZON" | "LATEST";
  /**
   * A file keeping the last handled sequence number per shard: a restart resumes after it
   * (AFTER_SEQUENCE_NUMBER) instead of replaying the whole stream. Written after the handler
   * returned, so a crash in between replays at most the batch in hand (the handler is idempotent).
   */
  checkpointFile?: string;
  /** Lambda event-filter patterns (FilterCriteria): other records are skipped, as Lambda skips them. */
  filters?: ReadonlyArray<Record<string, unknown>>;
  /** Attempts per record before it is given up (default: unbounded; the age limit applies). */
  maxAttempts?: number;
  /**
   * Retry backoff: the first retry waits `baseMs`, each next one twice as long up to `maxMs`;
   * a record still failing `maxRecordAgeMs` after its first failure is given up (the DLQ).
   * Defaults 500 ms / 30 s / 10 min: retries outlast the notifier's 90 s claim lease.
   */
  retry?: { baseMs?: number; maxMs?: number; maxRecordAgeMs?: number };
  onDeadLetter?: (record: DynamoDBRecord, error: unknown) => void;
  onError?: (error: unknown) => void;
  /** Called after the handler accepted a batch, before the checkpoint is written (crash tests). */
  afterDeliver?: () => void;
}

export interface StreamPump {
  stop(): Promise<void>;
  /** Resolves once every record written before the call has been handled (or dead-lettered). */
  drained(timeoutMs?: number): Promise<void>;
}

interface ShardState {
  shardId: string;
  iterator?: string;
  /** Last sequence number read, to re-acquire an iterator without re-reading. */
  lastSequence?: string;
  pending: DynamoDBRecord[];
  attempts: number;
  /** When the record at the head first failed (for the age limit). */
  firstFailureAt?: number;
  /** No retry before this time (epoch ms). */
  retryAt: number;
  /** Last sequence number the handler accepted (the checkpoint). */
  handledSequence?: string;
  closed: boolean;
}

interface Checkpoint {
  streamArn: string;
  shards: Record<string, string>;
}

function readCheckpoint(path: string | undefined, streamArn: string): Record<string, string> {
  if (!path || !existsSync(path)) return {};
  try {
    const checkpoint = JSON.parse(readFileSync(path, "utf8")) as Checkpoint;
    // A recreated table has a new stream: its old positions mean nothing.
    return checkpoint.streamArn === streamArn ? checkpoint.shards : {};
  } catch {
    return {};
  }
}

type Image = Record<string, unknown>;

/**
 * The SDK's streams client turns an empty map `{"M":{}}` into `{}`, which no longer says its
 * type (Lambda's event JSON keeps `{"M":{}}`); restore it, so the image unmarshalls as on AWS.
 */
function restoreEmptyMaps(value: unknown): unknown {
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return value;
  const entries = Object.entries(value as Image);
  if (entries.length === 0) return { M: {} };
  const [[type, inner]] = entries as [[string, unknown]];
  if (type === "M") return { M: restoreImage(inner as Image) };
  if (type === "L") return { L: (inner as unknown[]).map(restoreEmptyMaps) };
  return value;
}

function restoreImage(image: Image): Image {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, restoreEmptyMaps(value)]));
}

/** SDK stream record → the Lambda event record shape (what DynamoEventSource delivers). */
function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: record.awsRegion ?? "local",
    eventSourceARN: streamArn,
    dynamodb: {
      ...(d.ApproximateCreationDateTime
        ? { ApproximateCreationDateTime: Math.floor(d.ApproximateCreationDateTime.getTime() / 1000) }
        : {}),
      Keys: d.Keys as never,
      ...(d.NewImage ? { NewImage: restoreImage(d.NewImage) as never } : {}),
      ...(d.OldImage ? { OldImage: restoreImage(d.OldImage) as never } : {}),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
  } as DynamoDBRecord;
}

/**
 * Local stand-in for Lambda's DynamoDB event source: polls the table's stream on DynamoDB Local,
 * follows new shards, calls the handler with stream-event batches, and retries a batch from the
 * first record the handler lists in `batchItemFailures` (with backoff), as Lambda does.
 */
export async function startStreamPump(options: StreamPumpOptions): Promise<StreamPump> {
  const config = {
    endpoint: options.endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 3,
    requestHandler: deadlineRequestHandler(SDK_DEADLINES.background),
  };
  const dynamo = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  const table = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
  const pollMs = options.pollMs ?? 250;
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const retry = { baseMs: 500, maxMs: 30_000, maxRecordAgeMs: 10 * 60_000, ...options.retry };
  const checkpoint = readCheckpoint(options.checkpointFile, streamArn);
  const shards = new Map<string, ShardState>();
  let consecutiveErrors = 0;

  function saveCheckpoint(): void {
    if (!options.checkpointFile) return;
    const positions: Record<string, string> = { ...checkpoint };
    for (const state of shards.values()) {
      if (state.handledSequence) positions[state.shardId] = state.handledSequence;
    }
    const temp = `${options.checkpointFile}.tmp`;
    const saved: Checkpoint = { streamArn: streamArn as string, shards: positions };
    writeFileSync(temp, JSON.stringify(saved));
    renameSync(temp, options.checkpointFile);
  }
  let stopped = false;
  let cycle = 0;
  let lastActiveCycle = 0;
  const cycleWaiters: Array<() => void> = [];

  async function discoverShards(): Promise<void> {
    let exclusiveStartShardId: string | undefined;
    do {
      const out = await streams.send(
        new DescribeStreamCommand({
          StreamArn: streamArn,
          ...(exclusiveStartShardId ? { ExclusiveStartShardId: exclusiveStartShardId } : {}),
        }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || shards.has(shard.ShardId)) continue;
        const resumeAfter = checkpoint[shard.ShardId];
        // A child shard found after startup must be read from its start, or records are skipped.
        const type = cycle === 0 ? (options.startAt ?? "TRIM_HORIZON") : "TRIM_HORIZON";
        const it = await streams.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shard.ShardId,
            ...(resumeAfter
              ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: resumeAfter }
              : { ShardIteratorType: type }),
          }),
        );
        shards.set(shard.ShardId, {
          shardId: shard.ShardId,
          iterator: it.ShardIterator,
          ...(resumeAfter ? { lastSequence: resumeAfter, handledSequence: resumeAfter } : {}),
          pending: [],
          attempts: 0,
          retryAt: 0,
          closed: false,
        });
      }
      exclusiveStartShardId = out.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
  }

  async function deliver(state: ShardState): Promise<boolean> {
    if (state.pending.length === 0) return false;
    if (Date.now() < state.retryAt) return true; // backing off: still busy, not idle
    const batch = state.pending.slice(0, options.batchSize ?? 100);
    const filters = options.filters;
    const wanted = filters ? batch.filter((r) => matchesStreamFilters(r, filters)) : batch;
    let failedAt = -1;
    let failure: unknown;
    try {
      const response = wanted.length > 0 ? await options.handler({ Records: wanted }) : undefined;
      const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      failedAt = batch.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ""));
    } catch (error) {
      failedAt = batch.indexOf(wanted[0] as DynamoDBRecord);
      failure = error;
    }
    const accepted = failedAt === -1 ? batch.length : failedAt;
    if (accepted > 0) {
      state.handledSequence = batch[accepted - 1]?.dynamodb?.SequenceNumber ?? state.handledSequence;
      state.pending.splice(0, accepted);
      options.afterDeliver?.();
      saveCheckpoint();
    }
    if (failedAt === -1) {
      state.attempts = 0;
      state.firstFailureAt = undefined;
      state.retryAt = 0;
      return true;
    }
    if (accepted > 0) {
      state.attempts = 0;
      state.firstFailureAt = undefined;
    }
    state.attempts += 1;
    state.firstFailureAt ??= Date.now();
    const tooOld = Date.now() - state.firstFailureAt >= retry.maxRecordAgeMs;
    if (state.attempts >= maxAttempts || tooOld) {
      const dead = state.pending.shift() as DynamoDBRecord;
      state.handledSequence = dead.dynamodb?.SequenceNumber ?? state.handledSequence;
      state.attempts = 0;
      state.firstFailureAt = undefined;
      state.retryAt = 0;
      saveCheckpoint();
      options.onDeadLetter?.(dead, failure);
      return true;
    }
    // Back off (with jitter) instead of burning attempts: a claim in flight needs its lease to run out.
    const delay = Math.min(retry.maxMs, retry.baseMs * 2 ** (state.attempts - 1));
    state.retryAt = Date.now() + delay * (0.8 + Math.random() * 0.4);
    return true;
  }

  async function read(state: ShardState): Promise<void> {
    try {
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: 1000 }));
      const records = (out.Records ?? []).map((r) => toLambdaRecord(r, streamArn as string));
      state.pending.push(...records);
      state.lastSequence = records.at(-1)?.dynamodb?.SequenceNumber ?? state.lastSequence;
      state.iterator = out.NextShardIterator;
      if (!out.NextShardIterator) state.closed = true;
    } catch (error) {
      const name = (error as Error).name;
      if (name !== "TrimmedDataAccessException" && name !== "ExpiredIteratorException") throw error;
      // DynamoDB Local refuses a TRIM_HORIZON iterator taken while the shard was empty: take a fresh one.
      const it = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: state.shardId,
          ...(state.lastSequence
            ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: state.lastSequence }
            : { ShardIteratorType: "TRIM_HORIZON" }),
        }),
      );
      state.iterator = it.ShardIterator;
      throw new Error("stream iterator renewed", { cause: error });
    }
  }

  async function pollOnce(): Promise<boolean> {
    let active = false;
    await discoverShards();
    for (const state of shards.values()) {
      if (state.pending.length === 0 && state.iterator && !state.closed) await read(state);
      if (await deliver(state)) active = true;
      if (state.closed && state.pending.length === 0) {
        // Keep the id so the closed shard isn't re-read from its start.
        state.iterator = undefined;
      }
    }
    return active;
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        if (await pollOnce()) lastActiveCycle = cycle + 1;
        consecutiveErrors = 0;
      } catch (error) {
        // A failed cycle is not an idle one: drained() waits for a clean pass.
        lastActiveCycle = cycle + 1;
        if ((error as Error).message !== "stream iterator renewed") {
          consecutiveErrors += 1;
          options.onError?.(error);
        }
      }
      cycle += 1;
      for (const wake of cycleWaiters.splice(0)) wake();
      // DynamoDB down: poll less often (up to 5 s) rather than spin on errors.
      const wait = Math.min(5_000, pollMs * 2 ** Math.min(consecutiveErrors, 5));
      if (!stopped) await new Promise((r) => setTimeout(r, wait));
    }
  })();

  const nextCycle = () => new Promise<void>((resolve) => cycleWaiters.push(resolve));

  return {
    async stop() {
      stopped = true;
      for (const wake of cycleWaiters.splice(0)) wake();
      await loop;
      dynamo.destroy();
      streams.destroy();
    },
    async drained(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      // Idle = one full cycle that started after the call found nothing to read or retry.
      await nextCycle();
      while (!stopped) {
        await nextCycle();
        const pending = [...shards.values()].some((s) => s.pending.length > 0);
        if (lastActiveCycle < cycle && !pending) return;
        if (Date.now() > deadline) throw new Error("stream pump did not drain in time");
      }
    },
  };
}
