import { Metrics } from "@aws-lambda-powertools/metrics";
import { describe, expect, it, vi } from "vitest";
import { isPlaceholderToken } from "../../lambdas/adapters/github-token.js";
import { emptySweepCounters } from "../../lambdas/domain/code-search-sweep.js";
import { emptyPollCounters } from "../../lambdas/domain/poll-events.js";
import { makeCodeSearchSweepHandler } from "../../lambdas/handlers/code-search-sweep.js";
import { makeEventsPollerHandler } from "../../lambdas/handlers/events-poller.js";

const scheduled = { source: "aws.events", "detail-type": "Scheduled Event", time: "2026-01-15T12:00:00Z" };
const context = { getRemainingTimeInMillis: () => 40_000 };
const logger = { info: () => {}, warn: vi.fn() };

function metricsSpy() {
  const metrics = new Metrics({ namespace: "keywatch", serviceName: "test" });
  const added = vi.spyOn(metrics, "addMetric");
  vi.spyOn(metrics, "publishStoredMetrics").mockImplementation(() => metrics);
  return { metrics, added };
}

describe("events poller handler", () => {
  it("polls with the invocation's deadline", async () => {
    const poll = vi.fn(async (_deadline: number) => ({ ...emptyPollCounters(), httpRequests: 0 }));
    const before = Date.now();
    await makeEventsPollerHandler({ poll, metrics: metricsSpy().metrics, logger })(scheduled, context);
    const deadline = poll.mock.calls[0]?.[0] ?? 0;
    expect(deadline - before).toBeGreaterThanOrEqual(40_000);
    expect(deadline - before).toBeLessThan(41_000);
  });

  it("publishes the coverage gaps and API calls as metrics", async () => {
    const { metrics, added } = metricsSpy();
    const poll = async () => ({ ...emptyPollCounters(), coverageGaps: 1, httpRequests: 7 });
    await makeEventsPollerHandler({ poll, metrics, logger })(scheduled, context);
    expect(added).toHaveBeenCalledWith("CoverageGaps", "Count", 1);
    expect(added).toHaveBeenCalledWith("ApiCalls", "Count", 7);
  });

  it("refuses an event that is not an EventBridge schedule", async () => {
    const poll = vi.fn(async () => ({ ...emptyPollCounters(), httpRequests: 0 }));
    const handler = makeEventsPollerHandler({ poll, metrics: metricsSpy().metrics, logger });
    await expect(handler({ body: "{}" }, context)).rejects.toThrow();
    expect(poll).not.toHaveBeenCalled();
  });
});

describe("code-search sweep handler", () => {
  it("publishes new locations and blob fetches as metrics", async () => {
    const { metrics, added } = metricsSpy();
    const sweep = async () => ({ ...emptySweepCounters(), newLocations: 3, blobFetches: 2, httpRequests: 5 });
    await makeCodeSearchSweepHandler({ sweep, metrics, logger })(scheduled, context);
    expect(added).toHaveBeenCalledWith("NewLocations", "Count", 3);
    expect(added).toHaveBeenCalledWith("BlobFetches", "Count", 2);
  });
});

describe("token problems", () => {
  it("takes Secrets Manager's generated placeholder (punctuation) for no token", () => {
    expect(isPlaceholderToken("k8#Vq!2x;Zr^w0@Lp{9mS&dT3)uB7eN")).toBe(true);
  });

  it("takes GitHub's token shapes for tokens", () => {
    const fineGrained = `github_pat_${"A1b2C3d4E5".repeat(8)}`;
    expect([isPlaceholderToken(`ghp_${"a1B2".repeat(9)}`), isPlaceholderToken(fineGrained)]).toEqual([
      false,
      false,
    ]);
  });

  it("logs a warning and counts TokenRejected when the run was skipped for the placeholder", async () => {
    const { metrics, added } = metricsSpy();
    const warn = vi.fn();
    const poll = async () => ({
      ...emptyPollCounters(),
      skipped: "token_placeholder" as const,
      httpRequests: 0,
    });
    await makeEventsPollerHandler({ poll, metrics, logger: { info: () => {}, warn } })(scheduled, context);
    expect(added).toHaveBeenCalledWith("TokenRejected", "Count", 1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/placeholder/);
  });

  it("counts TokenRejected when GitHub answered 401", async () => {
    const { metrics, added } = metricsSpy();
    const sweep = async () => ({
      ...emptySweepCounters(),
      stopped: "unauthorized" as const,
      httpRequests: 1,
    });
    await makeCodeSearchSweepHandler({ sweep, metrics, logger })(scheduled, context);
    expect(added).toHaveBeenCalledWith("TokenRejected", "Count", 1);
  });
});
