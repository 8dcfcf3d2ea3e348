import { describe, expect, it } from "vitest";
import {
  detectCredentialStuffing,
  isAuthFailure,
} from "../../../lambdas/domain/anomaly/credential-stuffing.js";
import { EMPTY_EWMA, type Ewma, ewmaIdle, ewmaUpdate, zScore } from "../../../lambdas/domain/anomaly/ewma.js";
import { detectIpFanout } from "../../../lambdas/domain/anomaly/ip-fanout.js";
import {
  DAY_MINUTES,
  detectNewCountries,
  rememberCountries,
} from "../../../lambdas/domain/anomaly/new-country.js";
import { detectRateSpike } from "../../../lambdas/domain/anomaly/rate-spike.js";
import { DEFAULT_THRESHOLDS as T } from "../../../lambdas/domain/anomaly/thresholds.js";
import { detectUseAfterLeak } from "../../../lambdas/domain/anomaly/use-after-leak.js";

function steady(value: number, minutes: number): Ewma {
  let state = EMPTY_EWMA;
  for (let i = 0; i < minutes; i++) state = ewmaUpdate(state, value + (i % 2 === 0 ? 1 : -1), T.ewmaAlpha);
  return state;
}

describe("EWMA baseline", () => {
  it("converges to the mean of a steady series", () => {
    expect(steady(10, 300).mean).toBeCloseTo(10, 0);
  });

  it("decays towards zero over idle minutes", () => {
    const idle = ewmaIdle(steady(10, 300), 120, T.ewmaAlpha);
    expect(idle.mean).toBeLessThan(0.5);
    expect(idle.n).toBe(420);
  });

  it("floors the deviation at Poisson noise so a flat series isn't infinitely sensitive", () => {
    const flat: Ewma = { mean: 100, variance: 0, n: 100 };
    expect(zScore(flat, 110)).toBeCloseTo(1, 5);
  });
});

describe("rate_spike detector", () => {
  it("flags a minute far above the baseline as high", () => {
    expect(detectRateSpike(steady(5, 120), 300, T)).toBe("high");
  });

  it("flags a moderate burst as medium", () => {
    expect(detectRateSpike(steady(10, 120), 45, T)).toBe("medium");
  });

  it("stays silent on normal variation", () => {
    expect(detectRateSpike(steady(10, 120), 18, T)).toBeUndefined();
  });

  it("stays silent during warm-up (cold start)", () => {
    expect(detectRateSpike(steady(5, T.warmupMinutes - 1), 300, T)).toBeUndefined();
  });
});

describe("ip_fanout detector", () => {
  it("flags many more networks than the key's baseline", () => {
    expect(detectIpFanout(steady(2, 120), 60, T)).toBe("high");
  });

  it("accepts a key that normally uses many networks", () => {
    expect(detectIpFanout(steady(30, 120), 40, T)).toBeUndefined();
  });

  it("needs a minimum number of networks", () => {
    expect(detectIpFanout({ mean: 0.1, variance: 0, n: 200 }, T.ipFanout.minPrefixes - 1, T)).toBeUndefined();
  });
});

describe("new_country detector", () => {
  const minute = 20_000 * DAY_MINUTES;
  const mature = { firstMinute: minute - 10 * DAY_MINUTES, total: 10_000 };

  it("flags a country absent from the 30-day history", () => {
    const found = detectNewCountries({ DE: 20_000 }, ["DE", "BR"], minute, mature, T);
    expect(found).toEqual([{ country: "BR", severity: "medium" }]);
  });

  it("treats a country last seen more than 30 days ago as new", () => {
    expect(detectNewCountries({ DE: 20_000, BR: 19_960 }, ["BR"], minute, mature, T)).toHaveLength(1);
  });

  it("stays silent while the key is learning", () => {
    const young = { firstMinute: minute - 10, total: 10 };
    expect(detectNewCountries({}, ["BR"], minute, young, T)).toEqual([]);
  });

  it("forgets countries older than the history when remembering", () => {
    expect(rememberCountries({ FR: 19_900 }, ["DE"], minute, T)).toEqual({ DE: 20_000 });
  });
});

describe("credential_stuffing detector", () => {
  it("counts only 401 and 403 as refusals", () => {
    expect([401, 403, 404, 200, undefined].map(isAuthFailure)).toEqual([true, true, false, false, false]);
  });

  it("fires once when the window crosses the medium threshold", () => {
    expect(detectCredentialStuffing(5, 12, T)).toBe("medium");
    expect(detectCredentialStuffing(12, 15, T)).toBeUndefined();
  });

  it("escalates to high when the window crosses the high threshold", () => {
    expect(detectCredentialStuffing(20, T.credentialStuffing.highDistinctKeys, T)).toBe("high");
  });
});

describe("use_after_leak detector", () => {
  const leakedAt = "2026-01-05T10:00:00.000Z";
  const leakMinute = Date.parse(leakedAt) / 60_000;
  const compromised = { status: "compromised" as const, compromisedAt: leakedAt, incidentId: "inc-1" };

  it("is high for a never-seen network soon after the leak", () => {
    expect(detectUseAfterLeak(compromised, leakMinute + 30, true, T)).toBe("high");
  });

  it("is medium for the key's usual network", () => {
    expect(detectUseAfterLeak(compromised, leakMinute + 30, false, T)).toBe("medium");
  });

  it("is medium for a new network long after the leak", () => {
    expect(detectUseAfterLeak(compromised, leakMinute + 60 * 100, true, T)).toBe("medium");
  });

  it("ignores requests logged before the quarantine", () => {
    expect(detectUseAfterLeak(compromised, leakMinute - 5, true, T)).toBeUndefined();
  });

  it("is low for a revoked key still in use and silent for an active key", () => {
    expect(detectUseAfterLeak({ status: "revoked" }, leakMinute, true, T)).toBe("low");
    expect(detectUseAfterLeak({ status: "active" }, leakMinute, true, T)).toBeUndefined();
  });
});
