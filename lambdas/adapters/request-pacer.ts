/**
 * Request pacing with an injectable clock and sleep: GitHub code search allows 9 requests a
 * minute, and tests need to see a request wait without waiting a minute.
 */
export interface RequestPacer {
  /**
   * Takes one request slot, sleeping until one is free. Returns false without sleeping when the
   * slot would only come after `deadline` (epoch ms): the caller stops its run cleanly instead.
   */
  take(deadline?: number): Promise<boolean>;
  readonly stats: { taken: number; waits: number; waitedMs: number };
}

export interface PacerTiming {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `waitFor` returns 0 when a slot is free now (and takes it), else the ms to wait for one. */
function pacer(waitFor: (at: number) => number, timing: PacerTiming): RequestPacer {
  const now = timing.now ?? Date.now;
  const sleep = timing.sleep ?? realSleep;
  const stats = { taken: 0, waits: 0, waitedMs: 0 };
  // Callers queue so two concurrent takers can't both spend the same slot.
  let queue: Promise<unknown> = Promise.resolve();
  async function takeOne(deadline: number): Promise<boolean> {
    for (;;) {
      const waitMs = waitFor(now());
      if (waitMs <= 0) {
        stats.taken++;
        return true;
      }
      if (now() + waitMs > deadline) return false;
      stats.waits++;
      stats.waitedMs += waitMs;
      await sleep(waitMs);
    }
  }
  return {
    stats,
    take(deadline = Number.POSITIVE_INFINITY) {
      const result = queue.then(() => takeOne(deadline));
      queue = result.catch(() => undefined);
      return result;
    },
  };
}

/** A token bucket: `capacity` burst, `refill` tokens per `intervalMs`. */
export function createTokenBucket(
  options: { capacity: number; refill: number; intervalMs: number } & PacerTiming,
): RequestPacer {
  const perMs = options.refill / options.intervalMs;
  let tokens = options.capacity;
  let last: number | undefined;
  return pacer((at) => {
    tokens = Math.min(options.capacity, tokens + (at - (last ?? at)) * perMs);
    last = at;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - tokens) / perMs);
  }, options);
}

/**
 * At most `limit` requests in any `windowMs`: a token bucket whose tokens come back one window
 * after they were spent. A refill-rate bucket with a burst of 9 would allow 18 in its first minute.
 */
export function createSlidingWindowPacer(
  options: { limit: number; windowMs: number } & PacerTiming,
): RequestPacer {
  const spent: number[] = [];
  return pacer((at) => {
    while (spent.length > 0 && (spent[0] as number) <= at - options.windowMs) spent.shift();
    if (spent.length < options.limit) {
      spent.push(at);
      return 0;
    }
    return (spent[0] as number) + options.windowMs - at;
  }, options);
}

/** GitHub's code-search limit, 10 a minute, paced at 9 to keep one as margin. */
export function createCodeSearchPacer(timing: PacerTiming & { perMinute?: number } = {}): RequestPacer {
  return createSlidingWindowPacer({ limit: timing.perMinute ?? 9, windowMs: 60_000, ...timing });
}
