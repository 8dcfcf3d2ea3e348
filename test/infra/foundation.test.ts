import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { TABLES } from "../../lambdas/adapters/table-specs.js";
import { INDEX_ROLLOUT_CONTEXT, parseIndexRollout, StatefulStack } from "../../lib/stateful-stack.js";
import { synthKeywatch } from "../support/synth.js";

describe("cdk-nag", () => {
  it("reports no unacknowledged AwsSolutions finding for the keywatch app", () => {
    expect(() => synthKeywatch()).not.toThrow();
  });

  it("is really wired: an unacknowledged finding fails synthesis", () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), "nag-")) });
    new Queue(new Stack(app, "Bad"), "PlainQueue");
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });
});

describe("stateful stack", () => {
  it("creates one table per spec", () => {
    synthKeywatch().stateful.resourceCountIs("AWS::DynamoDB::Table", Object.keys(TABLES).length);
  });

  it("retains every table on delete", () => {
    const tables = synthKeywatch().stateful.findResources("AWS::DynamoDB::Table");
    for (const table of Object.values(tables)) expect(table.DeletionPolicy).toBe("Retain");
  });

  it("enables point-in-time recovery", () => {
    synthKeywatch().stateful.allResourcesProperties("AWS::DynamoDB::Table", {
      PointInTimeRecoverySpecification: Match.objectLike({ PointInTimeRecoveryEnabled: true }),
    });
  });

  it("encrypts tables with the customer-managed key", () => {
    synthKeywatch().stateful.allResourcesProperties("AWS::DynamoDB::Table", {
      SSESpecification: { SSEEnabled: true, SSEType: "KMS" },
    });
  });

  it("sets a TTL on every table that holds personal data", () => {
    const template = synthKeywatch().stateful;
    for (const spec of Object.values(TABLES).filter((t) => t.personalData)) {
      template.hasResourceProperties("AWS::DynamoDB::Table", {
        KeySchema: Match.arrayWith([{ AttributeName: spec.partitionKey, KeyType: "HASH" }]),
        TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
      });
    }
  });

  it("streams the incidents table with old and new images", () => {
    synthKeywatch().stateful.hasResourceProperties("AWS::DynamoDB::Table", {
      StreamSpecification: { StreamViewType: "NEW_AND_OLD_IMAGES" },
    });
  });
});

describe("stateless stack functions", () => {
  it("run Node.js 22 on arm64", () => {
    synthKeywatch().stateless.allResourcesProperties("AWS::Lambda::Function", {
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
    });
  });

  it("log to a group with a retention", () => {
    synthKeywatch().stateless.allResourcesProperties("AWS::Logs::LogGroup", {
      RetentionInDays: Match.anyValue(),
    });
  });
});

describe("upgrading a deployed stack one index at a time", () => {
  function incidentIndexes(rollout: string): string[] {
    const withContext = new App({
      outdir: mkdtempSync(join(tmpdir(), "rollout-")),
      context: { [INDEX_ROLLOUT_CONTEXT]: rollout },
    });
    const template = Template.fromStack(new StatefulStack(withContext, "Stateful"));
    const incidents = Object.values(template.findResources("AWS::DynamoDB::Table")).find(
      (table) =>
        JSON.stringify(table.Properties.KeySchema).includes('"pk"') &&
        JSON.stringify(table.Properties.GlobalSecondaryIndexes ?? []).includes("byState"),
    );
    return ((incidents?.Properties.GlobalSecondaryIndexes ?? []) as { IndexName: string }[]).map(
      (i) => i.IndexName,
    );
  }

  it("keeps only the first indexes of a table's spec, one more per deploy", () => {
    const all = TABLES.incidents.indexes.map((index) => index.name);
    expect(incidentIndexes("incidents=1")).toEqual(all.slice(0, 1));
    expect(incidentIndexes("incidents=2")).toEqual(all.slice(0, 2));
    expect(incidentIndexes("")).toEqual(all);
  });

  it("fails the synth on a value it can't read", () => {
    expect(() => parseIndexRollout("incident=2")).toThrow(/table=count/);
    expect(() => parseIndexRollout("incidents")).toThrow(/table=count/);
    expect(parseIndexRollout("incidents=2, keys=1")).toEqual({ incidents: 2, keys: 1 });
  });
});
