import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../bench/traffic-model/evaluate.js";
import { createTrafficModel } from "../../../bench/traffic-model/traffic-model.js";
import { createNetworkOwnerResolver } from "../../../lambdas/adapters/anomaly-network-owner.js";
import { createCountryResolver } from "../../../lambdas/adapters/country-resolver.js";
import { DEFAULT_THRESHOLDS } from "../../../lambdas/domain/anomaly/thresholds.js";

const MODEL_DIR = "bench/traffic-model";

describe("evaluation traffic model", () => {
  it("is written apart from the detectors: its traffic code imports nothing of them", () => {
    for (const file of ["traffic-model.ts", "networks.ts", "score.ts"]) {
      const imports = readFileSync(join(MODEL_DIR, file), "utf8")
        .split("\n")
        .filter((line) => /^\s*(import|export)\b.*from\s/.test(line));
      expect(
        imports.filter((line) => /lambdas\//.test(line)),
        file,
      ).toEqual([]);
    }
    expect(readdirSync(MODEL_DIR)).toContain("traffic-model.ts");
  });

  it("is reproducible from its seed", () => {
    const a = createTrafficModel({ seed: 9 }).minuteLines(600);
    const b = createTrafficModel({ seed: 9 }).minuteLines(600);
    expect(a.length).toBeGreaterThan(100);
    expect(a).toEqual(b);
  });
});

describe("detectors on a slice of the model (cold start 40 minutes before an attack)", () => {
  it("pages on the bad-checksum brute force within minutes and on nothing benign", async () => {
    const model = createTrafficModel({ variant: "holdout", seed: 31 });
    const brute = model.attacks.find((a) => a.kind === "bruteforce_bad_checksum");
    if (!brute) throw new Error("the model lost its brute force");
    const run = await evaluate(model, {
      thresholds: DEFAULT_THRESHOLDS,
      resolveCountry: createCountryResolver(),
      resolveOwner: createNetworkOwnerResolver(),
      fromMinute: brute.fromMinute - 40,
      minutes: 60,
    });
    const found = run.score.attacks.find((a) => a.id === brute.id);
    expect(found?.severity).toBe("high");
    expect(found?.minutesToDetect).toBeLessThanOrEqual(15);
    expect(run.score.falseHighs).toBe(0);
    expect(run.score.pagedAttacks).toBe(run.score.paged);
  }, 120_000);
});
