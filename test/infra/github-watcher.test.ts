import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { TABLES } from "../../lambdas/adapters/table-specs.js";
import { synthKeywatch } from "../support/synth.js";

function watcherFunction() {
  const functions = synthKeywatch().stateless.findResources("AWS::Lambda::Function", {
    Properties: { Environment: { Variables: Match.objectLike({ WATCHER_MAX_API_CALLS: Match.anyValue() }) } },
  });
  const [logicalId, resource] = Object.entries(functions)[0] ?? [];
  if (!logicalId || !resource) throw new Error("no watcher function");
  return { logicalId, properties: resource.Properties as Record<string, unknown> };
}

describe("watch-list table (stateful stack)", () => {
  it("is retained, deletion-protected, recoverable, KMS-encrypted and expires by TTL", () => {
    const tables = synthKeywatch().stateful.findResources("AWS::DynamoDB::Table", {
      Properties: {
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
      },
    });
    const watchList = Object.entries(tables).find(([id]) => id.startsWith(`${TABLES.watchList.id}Table`));
    expect(watchList?.[1]).toMatchObject({
      DeletionPolicy: "Retain",
      Properties: {
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: "KMS" },
        TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
      },
    });
  });
});

describe("GitHub watcher (stateless stack)", () => {
  it("runs every minute", () => {
    const { logicalId } = watcherFunction();
    synthKeywatch().stateless.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      Targets: Match.arrayWith([Match.objectLike({ Arn: { "Fn::GetAtt": [logicalId, "Arn"] } })]),
    });
  });

  it("gets the watch-list table's name, the token's secret ARN (never a token) and no reserved concurrency", () => {
    const { properties } = watcherFunction();
    const env = (properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.WATCH_LIST_TABLE).toBeDefined();
    expect(env.GITHUB_TOKEN_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/GitHubToken/) });
    expect(Object.keys(env).filter((name) => /TOKEN$/.test(name))).toEqual([]);
    expect(properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it("outputs the watch-list table's name for `keywatch watch` against the deployed list", () => {
    const outputs = synthKeywatch().stateless.findOutputs("*", {
      Description: Match.stringLikeRegexp("WATCH_LIST_TABLE"),
    });
    expect(Object.keys(outputs)).toHaveLength(1);
  });

  it("sends failed invocations to a dead-letter queue", () => {
    expect(watcherFunction().properties.DeadLetterConfig).toEqual({ TargetArn: expect.anything() });
  });

  it("alarms on errors, on the token, on watched-push coverage and on feed lag", () => {
    const stateless = synthKeywatch().stateless;
    stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmDescription: "github-watcher: invocation errors",
      MetricName: "Errors",
    });
    stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "TokenRejected",
      Dimensions: [{ Name: "service", Value: "github-watcher" }],
    });
    stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmDescription: Match.stringLikeRegexp("share of watched pushes"),
      ComparisonOperator: "LessThanThreshold",
      Threshold: 95,
      AlarmActions: Match.anyValue(),
    });
    stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "OldestFeedAgeSeconds",
      Dimensions: [{ Name: "service", Value: "github-watcher" }],
      Statistic: "Maximum",
      ComparisonOperator: "GreaterThanThreshold",
      AlarmActions: Match.anyValue(),
    });
  });
});
