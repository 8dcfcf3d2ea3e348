import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { type CfnStage, HttpMethod } from "aws-cdk-lib/aws-apigatewayv2";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { TABLES } from "../../lambdas/adapters/table-specs.js";
import { KeywatchFunction } from "./keywatch-function.js";
import type { PublicApi } from "./public-api.js";

export interface ReportFormProps {
  api: PublicApi;
  keys: ITable;
  incidents: ITable;
  reports: ITable;
  state: ITable;
  /** Comma-separated key prefixes the report text is scanned for. */
  keyPrefixes: string;
  alarmTopic: ITopic;
  dataKey: IKey;
  /** Reports per client network (/24, /48) per hour. */
  reportsPerHour?: number;
}

/** The page and its assets (static, no data) and the report API. */
const PAGE_PATHS = ["/report", "/report.js", "/report.css"];
/** Stage throttle of POST /reports, below the API-wide default: a form needs little and is the easiest target. */
export const REPORTS_ROUTE_THROTTLE = { rateLimit: 5, burstLimit: 20 };

/**
 * The public compromised-key report form: `GET /report` (+ script, stylesheet) and `POST /reports`.
 *
 * Abuse control is layered: the stage throttles the route; the function keeps a per-client
 * counter (HMAC of the /24 or /48 with the pepper secret below) in the state table, 10/hour by
 * default; bodies are capped at 64 KiB; a honeypot field drops bots.
 *
 * WAF: not attached. HTTP APIs can't be associated with a WAF web ACL (only REST APIs, ALBs,
 * CloudFront, AppSync...). The layers above cover a low-traffic form; if access logs or alarms
 * show abuse, put CloudFront in front of the API with a web ACL (rate-based rule per IP, e.g.
 * 100 requests / 5 min on /reports, plus AWSManagedRulesCommonRuleSet and Bot Control) and
 * restrict the API to CloudFront with a secret origin header.
 */
export class ReportForm extends Construct {
  readonly page: KeywatchFunction;
  readonly reportsApi: KeywatchFunction;
  /** HMAC key that pseudonymises client IP prefixes; other IP-keyed features may share it. */
  readonly ipPepper: Secret;

  constructor(scope: Construct, id: string, props: ReportFormProps) {
    super(scope, id);
    const common = { alarmTopic: props.alarmTopic, dataKey: props.dataKey };

    this.ipPepper = new Secret(this, "IpPepper", {
      secretName: "keywatch/ip-pepper",
      description: "keywatch: HMAC key pseudonymising client IP prefixes (report-form rate limits)",
      // The AWS-managed key: the data key's policy lives in the stateful stack, and granting through it would make that stack depend on this one.
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      // It only keys short-lived counters: losing it resets them, nothing else.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.ipPepper).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "The pepper only keys one-hour rate-limit counters and encrypts nothing; rotating it just resets them. " +
        "Rotate by hand (put-secret-value) if exposure is suspected; a rotation Lambda would add risk, not safety.",
    });

    this.page = new KeywatchFunction(this, "Page", {
      ...common,
      handler: "report-page",
      description: "keywatch: compromised-key report form page (static)",
      memorySize: 128,
      environment: { KEYWATCH_KEY_PREFIXES: props.keyPrefixes },
    });

    this.reportsApi = new KeywatchFunction(this, "Api", {
      ...common,
      handler: "reports",
      description: "keywatch: compromised-key reports (scan, record findings, rate limit)",
      memorySize: 256,
      environment: {
        KEYWATCH_KEY_PREFIXES: props.keyPrefixes,
        IP_PEPPER_SECRET_ID: this.ipPepper.secretArn,
        REPORT_RATE_LIMIT: String(props.reportsPerHour ?? 10),
        REPORT_RATE_WINDOW_SECONDS: "3600",
      },
    })
      // recordFindings reads and quarantines keys, and opens incidents.
      .useTable("keys", props.keys, "readWrite")
      .useTable("incidents", props.incidents, "readWrite");
    this.ipPepper.grantRead(this.reportsApi.fn);
    // Reports and counters: one write action each, and only on this feature's own items.
    this.grantOwnItems(props.reports, "reports", "dynamodb:PutItem", "REPORT#*");
    this.grantOwnItems(props.state, "state", "dynamodb:UpdateItem", "RATE#report#*");

    for (const path of PAGE_PATHS) {
      this.routePublic(
        props.api,
        HttpMethod.GET,
        path,
        this.page,
        "Static report form (HTML/JS/CSS): reads no data.",
      );
    }
    this.routePublic(
      props.api,
      HttpMethod.POST,
      "/reports",
      this.reportsApi,
      "Anyone must be able to report a leaked key without an account; abuse is limited by route throttling, " +
        "a per-network rate limit, a 64 KiB cap and a honeypot, and the answer never reveals whether a key is registered.",
    );
    const stage = props.api.stage.node.defaultChild as CfnStage;
    stage.addPropertyOverride("RouteSettings.POST /reports", {
      ThrottlingRateLimit: REPORTS_ROUTE_THROTTLE.rateLimit,
      ThrottlingBurstLimit: REPORTS_ROUTE_THROTTLE.burstLimit,
    });
  }

  private grantOwnItems(table: ITable, key: "reports" | "state", action: string, leadingKey: string): void {
    this.reportsApi.fn.addToRolePolicy(
      new PolicyStatement({
        actions: [action],
        resources: [table.tableArn],
        conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [leadingKey] } },
      }),
    );
    table.encryptionKey?.grantEncryptDecrypt(this.reportsApi.fn);
    this.reportsApi.fn.addEnvironment(TABLES[key].envVar, table.tableName);
  }

  private routePublic(
    api: PublicApi,
    method: HttpMethod,
    path: string,
    fn: KeywatchFunction,
    reason: string,
  ) {
    const before = new Set(api.api.node.children);
    api.route(method, path, fn.fn);
    for (const route of api.api.node.children.filter((child) => !before.has(child))) {
      Validations.of(route).acknowledge({ id: "AwsSolutions-APIG4", reason });
    }
  }
}
