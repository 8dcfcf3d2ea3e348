import { App, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { Table as DynamoTable, AttributeType as DynamoType, StreamViewType } from "aws-cdk-lib/aws-dynamodb";
import { Key } from "aws-cdk-lib/aws-kms";
import { Topic } from "aws-cdk-lib/aws-sns";
import { beforeAll, describe, expect, it } from "vitest";
import {
  matchesStreamFilters,
  NOTIFIER_STREAM_FILTERS,
} from "../../lambdas/adapters/notifier-stream-filter.js";
import { LeakResponse, sesSenderProblem, UNSET_SES_SENDER } from "../../lib/constructs/leak-response.js";
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
      BatchSize: 25,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it("retries a failed record for an hour (far past the 90 s claim lease), not a count spent in seconds", () => {
    stateless.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      MaximumRecordAgeInSeconds: 3600,
      MaximumRetryAttempts: 10_000,
    });
  });

  it("is filtered to openings, reopenings and reported locations", () => {
    stateless.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FilterCriteria: {
        Filters: NOTIFIER_STREAM_FILTERS.map((pattern) => ({ Pattern: JSON.stringify(pattern) })),
      },
    });
  });
});

describe("the notifier's stream filter patterns", () => {
  const record = (
    eventName: string,
    NewImage: Record<string, unknown>,
    OldImage?: Record<string, unknown>,
  ) => ({
    eventName,
    dynamodb: { NewImage, ...(OldImage ? { OldImage } : {}) },
  });
  const incident = (state: string) => ({ entity: { S: "incident" }, state: { S: state } });

  it("let through an opening, a reopening and a reported occurrence", () => {
    const wanted = [
      record("INSERT", incident("open")),
      record("MODIFY", incident("open"), incident("resolved")),
      record("INSERT", { entity: { S: "occurrence" }, reportId: { S: "r1" } }),
    ];
    expect(wanted.map((r) => matchesStreamFilters(r, NOTIFIER_STREAM_FILTERS))).toEqual([true, true, true]);
  });

  it("keep out counter updates, transitions, audit entries and scanner occurrences", () => {
    const unwanted = [
      record("MODIFY", incident("open"), incident("open")),
      record("MODIFY", incident("notified"), incident("open")),
      record("INSERT", { entity: { S: "audit" } }),
      record("INSERT", { entity: { S: "occurrence" } }),
      record("REMOVE", incident("open")),
    ];
    expect(unwanted.some((r) => matchesStreamFilters(r, NOTIFIER_STREAM_FILTERS))).toBe(false);
  });
});

describe("the notification reconciler", () => {
  it("runs every 5 minutes", () => {
    const functions = stateless.findResources("AWS::Lambda::Function", {
      Properties: { Description: Match.stringLikeRegexp("resumes notifications") },
    });
    const [id] = Object.keys(functions);
    expect(id).toBeDefined();
    stateless.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(5 minutes)",
      Targets: Match.arrayWith([Match.objectLike({ Arn: { "Fn::GetAtt": [id, "Arn"] } })]),
    });
  });

  it("has a dead-letter queue and alarms on what it finds", () => {
    stateless.hasResourceProperties("AWS::Lambda::Function", {
      Description: Match.stringLikeRegexp("resumes notifications"),
      DeadLetterConfig: { TargetArn: Match.anyValue() },
    });
    stateless.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "NotificationsBehind",
      Namespace: "keywatch",
      Threshold: 1,
      AlarmActions: Match.anyValue(),
    });
  });
});

describe("the SES sender", () => {
  function leakResponseStack(context: Record<string, string>): Stack {
    const app = new App({ context });
    const stack = new Stack(app, "LeakResponseOnly");
    const table = (id: string) =>
      new DynamoTable(stack, id, {
        partitionKey: { name: "pk", type: DynamoType.STRING },
        stream: StreamViewType.NEW_AND_OLD_IMAGES,
      });
    new LeakResponse(stack, "LeakResponse", {
      alarmTopic: new Topic(stack, "Alarms"),
      dataKey: new Key(stack, "DataKey"),
      tables: {
        keys: table("Keys"),
        incidents: table("Incidents"),
        notifications: table("Notifications"),
        reports: table("Reports"),
      },
      securityAlerts: new Topic(stack, "Security"),
      keyEvents: new Topic(stack, "KeyEvents"),
      keyPrefixes: "smk_",
    });
    return stack;
  }

  it("fails synth with a clear message when keywatch:sesSender is not set", () => {
    Annotations.fromStack(leakResponseStack({})).hasError(
      "*",
      Match.stringLikeRegexp("keywatch:sesSender is not set"),
    );
  });

  it("refuses a sender on a domain SES can never verify", () => {
    expect(sesSenderProblem("security@example.com")).toMatch(/reserved domain example\.com/);
    expect(sesSenderProblem("keywatch@localhost.invalid")).toMatch(/reserved domain/);
    expect(sesSenderProblem("not-an-address")).toMatch(/not an email address/);
  });

  it("accepts a verifiable sender and grants SES on that identity", () => {
    const stack = leakResponseStack({ "keywatch:sesSender": "security@smelter.io" });
    Annotations.fromStack(stack).hasNoError("*", Match.anyValue());
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ SES_SENDER: "security@smelter.io" }) },
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
    // The shared test synth sets no sender: the template carries the placeholder (and synth errors).
    expect(JSON.stringify(ses[0]?.Resource)).toContain(`identity/${UNSET_SES_SENDER}`);
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
