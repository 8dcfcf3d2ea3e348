import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AttributeType, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { Key } from "aws-cdk-lib/aws-kms";
import { Topic } from "aws-cdk-lib/aws-sns";
import { beforeAll, describe, expect, it } from "vitest";
import { KeywatchFunction } from "../../lib/constructs/keywatch-function.js";
import { buildKeywatchApp, KEYWATCH_CONTEXT } from "../../lib/keywatch-app.js";

/**
 * Issue 13 item 8: every function's role, action by action. A function that gains an action
 * (a `readWrite` grant, a Scan, a DeleteItem it never sends) fails here; so does a new function
 * nobody listed. Resources are named by their construct (KeysTable = the keys table, DataKey =
 * the customer-managed key, `/index/*` = that table's GSIs); "(condition)" marks a statement
 * limited to the function's own items. Logs and X-Ray grants are checked apart, below.
 */
const EXPECTED: Record<string, string[]> = {
  HealthzFunction: [],
  ConsolePageFunction: [],
  ConsoleApiFunction: [
    "dynamodb:BatchGetItem IncidentsTable",
    "dynamodb:BatchGetItem NotificationsTable",
    "dynamodb:BatchGetItem StateTable",
    "dynamodb:GetItem IncidentsTable",
    "dynamodb:GetItem KeysTable",
    "dynamodb:GetItem ReportsTable",
    "dynamodb:PutItem IncidentsTable",
    "dynamodb:Query AnomaliesTable",
    "dynamodb:Query AnomaliesTable/index/*",
    "dynamodb:Query IncidentsTable",
    "dynamodb:Query IncidentsTable/index/*",
    "dynamodb:UpdateItem AnomaliesTable",
    "dynamodb:UpdateItem IncidentsTable",
    "dynamodb:UpdateItem KeysTable",
    ...dataKey("readWrite"),
  ],
  GitHubScannersEventsPollerFunction: [
    ...recordFindings(),
    "dynamodb:BatchWriteItem StateTable",
    "dynamodb:DeleteItem StateTable",
    "dynamodb:GetItem StateTable",
    "dynamodb:PutItem StateTable",
    "dynamodb:Query StateTable",
    "dynamodb:UpdateItem StateTable",
    "secretsmanager:DescribeSecret GitHubScannersGitHubToken",
    "secretsmanager:GetSecretValue GitHubScannersGitHubToken",
    "sqs:SendMessage GitHubScannersEventsPollerDeadLetters",
    ...dataKey("readWrite"),
  ],
  GitHubScannersCodeSearchSweepFunction: [
    ...recordFindings(),
    "dynamodb:BatchGetItem StateTable",
    "dynamodb:BatchWriteItem StateTable",
    "dynamodb:DeleteItem StateTable",
    "dynamodb:GetItem StateTable",
    "dynamodb:PutItem StateTable",
    "dynamodb:Query StateTable",
    "dynamodb:UpdateItem StateTable",
    "secretsmanager:DescribeSecret GitHubScannersGitHubToken",
    "secretsmanager:GetSecretValue GitHubScannersGitHubToken",
    "sqs:SendMessage GitHubScannersCodeSearchSweepDeadLetters",
    ...dataKey("readWrite"),
  ],
  GitHubWatcherFunction: [
    ...recordFindings(),
    "dynamodb:BatchWriteItem StateTable",
    "dynamodb:DeleteItem StateTable",
    "dynamodb:PutItem StateTable",
    "dynamodb:PutItem WatchListTable",
    "dynamodb:Query StateTable",
    "dynamodb:Query WatchListTable",
    "dynamodb:UpdateItem StateTable",
    "secretsmanager:DescribeSecret GitHubScannersGitHubToken",
    "secretsmanager:GetSecretValue GitHubScannersGitHubToken",
    "sqs:SendMessage GitHubWatcherDeadLetters",
    ...dataKey("readWrite"),
  ],
  PartnerWebhookHandlerFunction: [
    ...recordFindings(),
    "dynamodb:UpdateItem StateTable",
    "secretsmanager:DescribeSecret GitHubScannersGitHubToken",
    "secretsmanager:GetSecretValue GitHubScannersGitHubToken",
    ...dataKey("readWrite"),
  ],
  ReportFormPageFunction: [],
  ReportFormApiFunction: [
    ...recordFindings(),
    "dynamodb:PutItem ReportsTable (condition)",
    "dynamodb:Query KeysTable/index/*",
    "dynamodb:UpdateItem StateTable (condition)",
    "secretsmanager:DescribeSecret ReportFormIpPepper",
    "secretsmanager:GetSecretValue ReportFormIpPepper",
    "sns:Publish SecurityAlerts",
    ...dataKey("readWrite"),
  ],
  LeakResponseNotifierFunction: [
    "dynamodb:DeleteItem NotificationsTable",
    "dynamodb:DescribeStream IncidentsTable",
    "dynamodb:GetItem IncidentsTable",
    "dynamodb:GetItem KeysTable",
    "dynamodb:GetItem NotificationsTable",
    "dynamodb:GetItem ReportsTable",
    "dynamodb:GetRecords IncidentsTable",
    "dynamodb:GetShardIterator IncidentsTable",
    "dynamodb:ListStreams *",
    "dynamodb:PutItem IncidentsTable",
    "dynamodb:PutItem NotificationsTable",
    "dynamodb:Query IncidentsTable",
    "dynamodb:UpdateItem IncidentsTable",
    "dynamodb:UpdateItem NotificationsTable",
    "ses:SendEmail ses:keywatch.invalid",
    "ses:SendEmail ses:sender-not-configured@keywatch.invalid",
    "ses:SendRawEmail ses:keywatch.invalid",
    "ses:SendRawEmail ses:sender-not-configured@keywatch.invalid",
    "sns:Publish KeyEvents",
    "sns:Publish SecurityAlerts",
    "sqs:GetQueueAttributes LeakResponseStreamDeadLetters",
    "sqs:GetQueueUrl LeakResponseStreamDeadLetters",
    "sqs:SendMessage LeakResponseStreamDeadLetters",
    ...dataKey("readWrite"),
  ],
  LeakResponseKeyAuthorizerFunction: ["dynamodb:GetItem KeysTable", ...dataKey("read")],
  UnknownKeyDigestSenderFunction: [
    "dynamodb:DeleteItem NotificationsTable",
    "dynamodb:GetItem IncidentsTable",
    "dynamodb:GetItem NotificationsTable",
    "dynamodb:PutItem NotificationsTable",
    "dynamodb:Query IncidentsTable/index/*",
    "dynamodb:UpdateItem IncidentsTable",
    "dynamodb:UpdateItem NotificationsTable",
    "sns:Publish SecurityAlerts",
    "sqs:SendMessage UnknownKeyDigestSenderDeadLetters",
    ...dataKey("readWrite"),
  ],
  NotificationReconcilerFunction: [
    "dynamodb:DeleteItem NotificationsTable",
    "dynamodb:GetItem IncidentsTable",
    "dynamodb:GetItem KeysTable",
    "dynamodb:GetItem NotificationsTable",
    "dynamodb:GetItem ReportsTable",
    "dynamodb:PutItem IncidentsTable",
    "dynamodb:PutItem NotificationsTable",
    "dynamodb:Query IncidentsTable",
    "dynamodb:Query IncidentsTable/index/*",
    "dynamodb:Query NotificationsTable/index/*",
    "dynamodb:UpdateItem IncidentsTable",
    "dynamodb:UpdateItem NotificationsTable",
    "ses:SendEmail ses:keywatch.invalid",
    "ses:SendEmail ses:sender-not-configured@keywatch.invalid",
    "ses:SendRawEmail ses:keywatch.invalid",
    "ses:SendRawEmail ses:sender-not-configured@keywatch.invalid",
    "sns:Publish KeyEvents",
    "sns:Publish SecurityAlerts",
    "sqs:SendMessage NotificationReconcilerDeadLetters",
    ...dataKey("readWrite"),
  ],
  AnomalyDetectionDetectorFunction: [
    "dynamodb:BatchGetItem StateTable",
    "dynamodb:BatchWriteItem AnomaliesTable",
    "dynamodb:PutItem StateTable",
    "dynamodb:Query KeysTable/index/*",
    "dynamodb:UpdateItem StateTable",
    "secretsmanager:DescribeSecret AnomalyDetectionIpPepper",
    "secretsmanager:GetSecretValue AnomalyDetectionIpPepper",
    "sns:Publish SecurityAlerts",
    "sqs:SendMessage AnomalyDetectionDetectorDeadLetters",
    ...dataKey("readWrite"),
  ],
};

/** recordFindings: read (one by one and in batches) and quarantine a key; read, open and extend an incident. */
function recordFindings(): string[] {
  return [
    "dynamodb:BatchGetItem IncidentsTable",
    "dynamodb:BatchGetItem KeysTable",
    "dynamodb:GetItem IncidentsTable",
    "dynamodb:GetItem KeysTable",
    "dynamodb:PutItem IncidentsTable",
    "dynamodb:UpdateItem IncidentsTable",
    "dynamodb:UpdateItem KeysTable",
  ];
}

function dataKey(access: "read" | "readWrite"): string[] {
  const read = ["kms:Decrypt DataKey", "kms:DescribeKey DataKey"];
  if (access === "read") return read;
  return [...read, "kms:Encrypt DataKey", "kms:GenerateDataKey* DataKey", "kms:ReEncrypt* DataKey"];
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
let resources: Resources;

/** A resource as the construct that made it: hash suffixes dropped, index ARNs marked. */
function resourceName(resource: unknown): string {
  if (resource === "*") return "*";
  const text = JSON.stringify(resource);
  const name =
    /ExportsOutput(?:FnGetAtt|Ref)([A-Za-z]+?)[0-9A-F]{8}/.exec(text)?.[1] ??
    /"Fn::GetAtt":\["([A-Za-z]+?)[0-9A-F]{8}"/.exec(text)?.[1] ??
    /"Ref":"([A-Za-z]+?)[0-9A-F]{8}"/.exec(text)?.[1] ??
    (text.includes(":ses:") ? `ses:${/identity\/([^"]+)/.exec(text)?.[1]}` : text);
  return text.includes("/index/*") ? `${name}/index/*` : name;
}

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every `action resource` pair the function's role is granted, from all its policies. */
function grantsOf(functionId: string): string[] {
  const fn = resources[functionId] as Resources[string];
  const role = (fn.Properties.Role as { "Fn::GetAtt": [string] })["Fn::GetAtt"][0];
  const grants = new Set<string>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== "AWS::IAM::Policy") continue;
    if (!JSON.stringify(resource.Properties.Roles).includes(`"${role}"`)) continue;
    const document = resource.Properties.PolicyDocument as { Statement: Statement[] };
    for (const statement of document.Statement) {
      for (const action of ([] as string[]).concat(statement.Action)) {
        for (const target of ([] as unknown[]).concat(statement.Resource)) {
          grants.add(`${action} ${resourceName(target)}${statement.Condition ? " (condition)" : ""}`);
        }
      }
    }
  }
  return [...grants].sort();
}

function functionIds(): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === "AWS::Lambda::Function") ids[id.replace(/[0-9A-F]{8}$/, "")] = id;
  }
  return ids;
}

beforeAll(() => {
  // IAM doesn't depend on the bundles: skipping esbuild keeps this synth (cdk-nag included) short.
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), "keywatch-iam-")),
    context: { ...KEYWATCH_CONTEXT, "aws:cdk:bundling-stacks": [] },
  });
  const { stateless } = buildKeywatchApp(app);
  app.synth();
  resources = Template.fromStack(stateless).toJSON().Resources as Resources;
});

describe("each function's role holds exactly the actions it uses", () => {
  it("lists every function of the stack (a new function needs its grants reviewed here)", () => {
    expect(Object.keys(functionIds()).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name}`, () => {
      const id = functionIds()[name] as string;
      const granted = grantsOf(id).filter((grant) => !/^(logs|xray):/.test(grant));
      expect(granted).toEqual([...expected].sort());
    });
  }

  it("no function may Scan any table", () => {
    const scans = Object.values(functionIds()).flatMap((id) =>
      grantsOf(id).filter((grant) => grant.startsWith("dynamodb:Scan")),
    );
    expect(scans).toEqual([]);
  });

  it("writes logs only to its own log group, and X-Ray traces", () => {
    for (const [name, id] of Object.entries(functionIds())) {
      const rest = grantsOf(id).filter((grant) => /^(logs|xray):/.test(grant));
      const config = resources[id]?.Properties.LoggingConfig as { LogGroup: unknown };
      const logGroup = resourceName(config.LogGroup);
      expect(rest, name).toEqual(
        [
          `logs:CreateLogStream ${logGroup}`,
          `logs:PutLogEvents ${logGroup}`,
          "xray:PutTelemetryRecords *",
          "xray:PutTraceSegments *",
        ].sort(),
      );
    }
  });
});

describe("KeywatchFunction.useTable", () => {
  function fixture() {
    const stack = new Stack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "T");
    const key = new Key(stack, "K");
    const table = new Table(stack, "Tbl", {
      partitionKey: { name: "pk", type: AttributeType.STRING },
      encryptionKey: key,
      encryption: TableEncryption.CUSTOMER_MANAGED,
    });
    const fn = new KeywatchFunction(stack, "F", {
      handler: "healthz",
      description: "t",
      alarmTopic: new Topic(stack, "A"),
      dataKey: key,
    });
    return { stack, table, fn };
  }

  it("refuses an empty action list instead of granting nothing silently", () => {
    const { table, fn } = fixture();
    expect(() => fn.useTable("state", table, [])).toThrow(/no actions/);
  });

  it("refuses QueryIndex on a table whose spec has no index", () => {
    const { table, fn } = fixture();
    expect(() => fn.useTable("state", table, ["QueryIndex"])).toThrow(/without indexes/);
  });
});
