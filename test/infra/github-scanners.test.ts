import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { synthKeywatch } from "../support/synth.js";

function scannerFunction(handlerEnv: string) {
  const functions = synthKeywatch().stateless.findResources("AWS::Lambda::Function", {
    Properties: { Environment: { Variables: Match.objectLike({ [handlerEnv]: Match.anyValue() }) } },
  });
  const [logicalId, resource] = Object.entries(functions)[0] ?? [];
  if (!logicalId || !resource) throw new Error(`no function with ${handlerEnv}`);
  return { logicalId, properties: resource.Properties as Record<string, unknown> };
}

describe("GitHub scanners infra", () => {
  it("runs the events poller every minute", () => {
    const { logicalId } = scannerFunction("POLLER_MAX_API_CALLS");
    synthKeywatch().stateless.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      Targets: Match.arrayWith([Match.objectLike({ Arn: { "Fn::GetAtt": [logicalId, "Arn"] } })]),
    });
  });

  it("runs the code-search sweep every 15 minutes", () => {
    const { logicalId } = scannerFunction("SWEEP_MAX_SEARCH_REQUESTS");
    synthKeywatch().stateless.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(15 minutes)",
      Targets: Match.arrayWith([Match.objectLike({ Arn: { "Fn::GetAtt": [logicalId, "Arn"] } })]),
    });
  });

  it("reserves no concurrency (a low account quota would fail the deploy; a lease keeps one run at a time)", () => {
    expect(scannerFunction("POLLER_MAX_API_CALLS").properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(
      scannerFunction("SWEEP_MAX_SEARCH_REQUESTS").properties.ReservedConcurrentExecutions,
    ).toBeUndefined();
  });

  it("passes the token's secret ARN, never a token value", () => {
    const env = (
      scannerFunction("POLLER_MAX_API_CALLS").properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(env.GITHUB_TOKEN_SECRET_ARN).toEqual({ Ref: expect.stringMatching(/GitHubToken/) });
    expect(Object.keys(env).filter((name) => /TOKEN$/.test(name))).toEqual([]);
  });

  it("grants reading the token secret to the scanners", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            Resource: { Ref: Match.stringLikeRegexp("GitHubToken") },
          }),
        ]),
      },
    });
  });

  it("sends failed poller invocations to a dead-letter queue", () => {
    const { properties } = scannerFunction("POLLER_MAX_API_CALLS");
    expect(properties.DeadLetterConfig).toEqual({ TargetArn: expect.anything() });
  });

  it("alarms on the share of new pushes diffed, not on any coverage gap", () => {
    const alarms = synthKeywatch().stateless.findResources("AWS::CloudWatch::Alarm", {
      Properties: { AlarmDescription: Match.stringLikeRegexp("share of new pushes") },
    });
    const [alarm] = Object.values(alarms);
    const metrics = (alarm?.Properties.Metrics ?? []) as { Expression?: string; MetricStat?: unknown }[];
    expect({
      expression: metrics.find((m) => m.Expression)?.Expression,
      names: metrics.flatMap((m) => (m.MetricStat ? [JSON.stringify(m.MetricStat)] : [])).join(" "),
      operator: alarm?.Properties.ComparisonOperator,
    }).toEqual({
      expression: "IF(b > 0, 100 * a / b, 100)",
      names: expect.stringMatching(/PushesDiffed.*PushesSeen|PushesSeen.*PushesDiffed/),
      operator: "LessThanThreshold",
    });
    synthKeywatch().stateless.resourcePropertiesCountIs(
      "AWS::CloudWatch::Alarm",
      { MetricName: "CoverageGaps" },
      0,
    );
  });

  it("alarms when a scanner's token is the placeholder or rejected", () => {
    for (const service of ["events-poller", "code-search-sweep"]) {
      synthKeywatch().stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "keywatch",
        MetricName: "TokenRejected",
        Dimensions: [{ Name: "service", Value: service }],
        AlarmActions: Match.anyValue(),
      });
    }
  });

  it("gives the partner webhook the same token secret for GitHub's public keys", () => {
    const functions = synthKeywatch().stateless.findResources("AWS::Lambda::Function", {
      Properties: {
        Environment: { Variables: Match.objectLike({ GITHUB_TOKEN_SECRET_ID: Match.anyValue() }) },
      },
    });
    const [webhook] = Object.values(functions);
    const env = (webhook?.Properties.Environment as { Variables: Record<string, unknown> } | undefined)
      ?.Variables;
    expect(env?.GITHUB_TOKEN_SECRET_ID).toEqual({ Ref: expect.stringMatching(/GitHubToken/) });
  });

  it("alarms on poller errors", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmDescription: "events-poller: invocation errors",
      MetricName: "Errors",
    });
  });
});
