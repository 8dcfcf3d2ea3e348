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

  it("keeps one poller and one sweep running at a time", () => {
    expect(scannerFunction("POLLER_MAX_API_CALLS").properties.ReservedConcurrentExecutions).toBe(1);
    expect(scannerFunction("SWEEP_MAX_SEARCH_REQUESTS").properties.ReservedConcurrentExecutions).toBe(1);
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

  it("alarms when coverage gaps exceed the threshold", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "keywatch",
      MetricName: "CoverageGaps",
      Dimensions: [{ Name: "service", Value: "events-poller" }],
      ComparisonOperator: "GreaterThanThreshold",
      AlarmActions: Match.anyValue(),
    });
  });

  it("alarms on poller errors", () => {
    synthKeywatch().stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmDescription: "events-poller: invocation errors",
      MetricName: "Errors",
    });
  });
});
