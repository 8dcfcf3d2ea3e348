import { Match, type Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { synthKeywatch } from "../support/synth.js";

let stateless: Template;
beforeAll(() => {
  stateless = synthKeywatch().stateless;
});

/** The logical id of the notifier function (its description is unique). */
function notifierRoleRef(): string {
  const functions = stateless.findResources("AWS::Lambda::Function", {
    Properties: { Description: Match.stringLikeRegexp("incidents stream") },
  });
  const [fn] = Object.values(functions);
  const role = (fn?.Properties as { Role: { "Fn::GetAtt": [string, string] } } | undefined)?.Role[
    "Fn::GetAtt"
  ][0];
  if (!role) throw new Error("notifier function not found in the stateless template");
  return role;
}

function notifierStatements(): Array<{ Action: string | string[]; Resource: unknown; Effect: string }> {
  const role = notifierRoleRef();
  const policies = stateless.findResources("AWS::IAM::Policy");
  return Object.values(policies)
    .filter((p) => JSON.stringify((p.Properties as { Roles: unknown }).Roles).includes(role))
    .flatMap((p) => (p.Properties as { PolicyDocument: { Statement: never[] } }).PolicyDocument.Statement);
}

describe("the notifier's stream source", () => {
  it("reads the incidents stream with bisect, partial batch failures, retries and an SQS DLQ", () => {
    stateless.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: Match.anyValue(),
      StartingPosition: "TRIM_HORIZON",
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      MaximumRetryAttempts: 8,
      BatchSize: 25,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });
});

describe("alarms", () => {
  it("alarm on the stream dead-letter queue's depth", () => {
    stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmDescription: "messages waiting in dead-letter queue StreamDeadLettersAlarm",
      MetricName: "ApproximateNumberOfMessagesVisible",
      AlarmActions: Match.anyValue(),
    });
  });

  it("alarm on notifier errors", () => {
    stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      AlarmDescription: "notifier: invocation errors",
      MetricName: "Errors",
    });
  });
});

describe("least privilege", () => {
  it("the notifier cannot write the key registry", () => {
    const writes = [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
    ];
    const onKeys = notifierStatements().filter((s) => JSON.stringify(s.Resource).includes("KeysTable"));
    expect(onKeys.length).toBeGreaterThan(0);
    for (const statement of onKeys) {
      const actions = ([] as string[]).concat(statement.Action);
      expect(actions.filter((a) => writes.includes(a))).toEqual([]);
    }
  });

  it("the notifier can send email only as the configured SES identity", () => {
    const ses = notifierStatements().filter((s) =>
      ([] as string[]).concat(s.Action).some((a) => a.startsWith("ses:")),
    );
    expect(ses).toHaveLength(1);
    expect(JSON.stringify(ses[0]?.Resource)).toContain("identity/security@example.com");
    expect(JSON.stringify(ses[0]?.Resource)).not.toContain('"*"');
  });

  it("the notifier can publish to both topics", () => {
    const publish = notifierStatements().filter((s) =>
      ([] as string[]).concat(s.Action).includes("sns:Publish"),
    );
    const resources = JSON.stringify(publish.map((s) => s.Resource));
    expect(resources).toContain("SecurityAlerts");
    expect(resources).toContain("KeyEvents");
  });
});

describe("the key authorizer", () => {
  it("is a function with the keys table name and a cache TTL of at most 60 s", () => {
    stateless.hasResourceProperties("AWS::Lambda::Function", {
      Description: Match.stringLikeRegexp("API key authorizer"),
      Environment: {
        Variables: Match.objectLike({ KEYS_TABLE: Match.anyValue(), KEY_CACHE_TTL_MS: "30000" }),
      },
    });
  });
});
