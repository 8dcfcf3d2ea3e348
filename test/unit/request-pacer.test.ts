import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createCodeSearchPacer, createTokenBucket } from "../../lambdas/adapters/request-pacer.js";

function fakeTime() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

describe("code-search pacer", () => {
  it("lets 9 requests through at once and makes the 10th wait for the window", async () => {
    const time = fakeTime();
    const pacer = createCodeSearchPacer(time);
    for (let i = 0; i < 9; i++) await pacer.take();
    expect(time.now()).toBe(0);
    await pacer.take();
    expect(time.now()).toBe(60_000);
  });

  it("never allows more than 9 in any 60-second window", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 60 }),
        async (gaps) => {
          const time = fakeTime();
          const pacer = createCodeSearchPacer(time);
          const at: number[] = [];
          for (const gap of gaps) {
            await time.sleep(gap);
            await pacer.take();
            at.push(time.now());
          }
          for (let i = 9; i < at.length; i++)
            expect((at[i] as number) - (at[i - 9] as number)).toBeGreaterThanOrEqual(60_000);
        },
      ),
    );
  });

  it("refuses, without sleeping, a slot that would come after the deadline", async () => {
    const time = fakeTime();
    const pacer = createCodeSearchPacer(time);
    for (let i = 0; i < 9; i++) await pacer.take();
    expect(await pacer.take(30_000)).toBe(false);
    expect(time.now()).toBe(0);
  });
});

describe("token bucket", () => {
  it("refills at its rate after the burst", async () => {
    const time = fakeTime();
    const bucket = createTokenBucket({ capacity: 2, refill: 1, intervalMs: 1_000, ...time });
    await bucket.take();
    await bucket.take();
    await bucket.take();
    expect(time.now()).toBe(1_000);
    expect(bucket.stats.waits).toBe(1);
  });
});
