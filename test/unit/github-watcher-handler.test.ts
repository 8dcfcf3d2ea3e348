import { Metrics } from "@aws-lambda-powertools/metrics";
import { describe, expect, it, vi } from "vitest";
import { watchHealth } from "../../lambdas/adapters/github-watcher-cycle.js";
import { emptyWatchCounters } from "../../lambdas/domain/poll-watched-feeds.js";
import { makeGitHubWatcherHandler } from "../../lambdas/handlers/github-watcher.js";

const scheduled = { source: "aws.events", "detail-type": "Scheduled Event", time: "2026-01-15T12:00:00Z" };
const context = { getRemainingTimeInMillis: () => 40_000 };

function metricsSpy() {
  const metrics = new Metrics({ namespace: "keywatch", serviceName: "test" });
  const added = vi.spyOn(metrics, "addMetric");
  vi.spyOn(metrics, "publishStoredMetrics").mockImplementation(() => metrics);
  return { metrics, added };
}

describe("github watcher handler", () => {
  it("publishes coverage and lag as the alarms read them", async () => {
    const { metrics, added } = metricsSpy();
    const watch = async () => ({
      ...emptyWatchCounters(),
      pushesSeen: 4,
      pushesDiffed: 3,
      pushesUnreachable: 1,
      oldestFeedAgeSeconds: 75,
      httpRequests: 9,
    });
    await makeGitHubWatcherHandler({ watch, metrics, logger: { info: () => {}, warn: vi.fn() } })(
      scheduled,
      context,
    );
    expect(added).toHaveBeenCalledWith("PushesSeen", "Count", 4);
    expect(added).toHaveBeenCalledWith("PushesDiffed", "Count", 3);
    expect(added).toHaveBeenCalledWith("PushesUnreachable", "Count", 1);
    expect(added).toHaveBeenCalledWith("OldestFeedAgeSeconds", "Seconds", 75);
    expect(added).toHaveBeenCalledWith("HttpRequests", "Count", 9);
  });

  it("says so, without throwing, when the token is still the placeholder", async () => {
    const warn = vi.fn();
    const watch = async () => ({
      ...emptyWatchCounters(),
      skipped: "token_placeholder" as const,
      httpRequests: 0,
    });
    const { metrics, added } = metricsSpy();
    await makeGitHubWatcherHandler({ watch, metrics, logger: { info: () => {}, warn } })(scheduled, context);
    expect(warn.mock.calls[0]?.[0]).toMatch(/placeholder/);
    expect(added).toHaveBeenCalledWith("TokenRejected", "Count", 1);
  });

  it("refuses an event that is not an EventBridge schedule", async () => {
    const watch = vi.fn(async () => ({ ...emptyWatchCounters(), httpRequests: 0 }));
    const handler = makeGitHubWatcherHandler({
      watch,
      metrics: metricsSpy().metrics,
      logger: { info: () => {}, warn: () => {} },
    });
    await expect(handler({ body: "{}" }, context)).rejects.toThrow();
    expect(watch).not.toHaveBeenCalled();
  });
});

describe("watcher health", () => {
  const at = new Date("2026-01-15T12:00:00Z");

  it("is ok when every watched push was diffed or unreachable", () => {
    expect(
      watchHealth({ ...emptyWatchCounters(), pushesSeen: 5, pushesDiffed: 4, pushesUnreachable: 1 }, at),
    ).toMatchObject({
      scanner: "watcher",
      outcome: "ok",
      coverage: 1,
    });
  });

  it("is degraded when pushes wait, or a feed can't be read", () => {
    expect(
      watchHealth({ ...emptyWatchCounters(), pushesSeen: 5, pushesDiffed: 2, backlog: 3 }, at)?.outcome,
    ).toBe("degraded");
    expect(watchHealth({ ...emptyWatchCounters(), feedsUnreachable: 1 }, at)?.outcome).toBe("degraded");
  });

  it("is failed on a rejected token and absent for an overlapping run", () => {
    expect(watchHealth({ ...emptyWatchCounters(), stopped: "unauthorized" }, at)?.outcome).toBe("failed");
    expect(watchHealth({ ...emptyWatchCounters(), skipped: "overlapping_run" }, at)).toBeUndefined();
  });
});
