import { build } from "esbuild";
import { describe, expect, it } from "vitest";

describe("anomaly detector bundle (issue 13 item 12)", () => {
  it("never reaches the SES client or the email sender it does not use", async () => {
    // The same entry and module resolution as the CDK NodejsFunction (ESM, node22).
    const result = await build({
      entryPoints: ["lambdas/handlers/anomaly-detector.ts"],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node22",
      mainFields: ["module", "main"],
      write: false,
      metafile: true,
      outdir: "unused",
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes("@aws-sdk/client-sns"))).toBe(true);
    expect(inputs.filter((path) => /client-sesv2|nodemailer|email-sender/.test(path))).toEqual([]);
  });
});
