import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { buildKeywatchApp, KEYWATCH_CONTEXT } from "../../lib/keywatch-app.js";

export interface SynthesizedKeywatch {
  stateful: Template;
  stateless: Template;
}

let cached: SynthesizedKeywatch | undefined;

/** Synthesizes the real app once per test file, cdk-nag included: a finding makes this throw. */
export function synthKeywatch(): SynthesizedKeywatch {
  if (cached) return cached;
  const outdir = mkdtempSync(join(tmpdir(), "keywatch-synth-"));
  const { app, stateful, stateless } = buildKeywatchApp(new App({ outdir, context: KEYWATCH_CONTEXT }));
  try {
    app.synth();
  } catch (error) {
    let report = "";
    try {
      report = readFileSync(join(outdir, "validation-report.json"), "utf8");
    } catch {}
    throw new Error(`synth failed: ${(error as Error).message}\n${report.slice(0, 20_000)}`);
  }
  cached = {
    stateful: Template.fromJSON(
      JSON.parse(readFileSync(join(outdir, `${stateful.artifactId}.template.json`), "utf8")),
    ),
    stateless: Template.fromJSON(
      JSON.parse(readFileSync(join(outdir, `${stateless.artifactId}.template.json`), "utf8")),
    ),
  };
  return cached;
}
