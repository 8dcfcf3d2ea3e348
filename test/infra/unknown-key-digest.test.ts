import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { synthKeywatch } from "../support/synth.js";

function digestSender() {
  const functions = synthKeywatch().stateless.findResources("AWS::Lambda::Function", {
    Properties: { Description: Match.stringLikeRegexp("unknown \\(unregistered\\) keys") },
  });
  const entries = Object.entries(functions);
  expect(entries).toHaveLength(1);
  const [logicalId, resource] = entries[0] ?? [];
  return { logicalId: logicalId ?? "", properties: (resource?.Properties ?? {}) as Record<string, unknown> };
}

// Synthesis (bundling + cdk-nag) is slow: done once under the hook timeout, not a test's.
beforeAll(() => {
  synthKeywatch();
});

describe("unknown-key digest sender infra", () => {
  it("runs every 5 minutes on an EventBridge schedule", () => {
    const { logicalId } = digestSender();
    synthKeywatch().stateless.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(5 minutes)",
      Targets: Match.arrayWith([Match.objectLike({ Arn: { "Fn::GetAtt": [logicalId, "Arn"] } })]),
    });
  });

  it("has a dead-letter queue whose depth is alarmed", () => {
    const { properties } = digestSender();
    const dlq = (properties.DeadLetterConfig as { TargetArn: { "Fn::GetAtt": [string, string] } }).TargetArn[
      "Fn::GetAtt"
    ][0];
    synthKeywatch().stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlq, "QueueName"] } }],
    });
  });

  it("knows the incidents and notifications tables and the security topic, nothing else", () => {
    const variables = (digestSender().properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(Object.keys(variables).sort()).toEqual([
      "INCIDENTS_TABLE",
      "NODE_OPTIONS",
      "NOTIFICATIONS_TABLE",
      "SECURITY_TOPIC_ARN",
    ]);
  });
});
