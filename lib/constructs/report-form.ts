import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { HttpMethod } from "aws-cdk-lib/aws-apigatewayv2";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { TABLES } from "../../lambdas/adapters/table-specs.js";
import { KeywatchFunction } from "./keywatch-function.js";
import { type PublicApi, ROUTE_THROTTLES } from "./public-api.js";
import { TABLE_ACCESS } from "./table-access.js";

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
  /** The security team's topic: a misuse report (no key pasted) alerts it directly. */
  securityAlerts: ITopic;
}

/** The page and its assets (static, no data) and the report API. */
const PAGE_PATHS = ["/report", "/report.js", "/report.css"];
/** Route throttle of POST /reports: its own budget, apart from the webhook's and the stage default. */
export const REPORTS_ROUTE_THROTTLE = ROUTE_THROTTLES.reports;

/**
 * The public compromised-key report form: `GET /report` (+ script, stylesheet) and `POST /reports`.
 *
 * Abuse control is layered: the route has its own throttle (ROUTE_THROTTLES.reports, apart from
 * the webhook's); the function keeps a per-client counter (HMAC of the /24 or /48 with the pepper
 * secret below) in the state table, 10/hour by default; bodies are capped at 64 KiB; a honeypot
 * field drops bots. HTTP APIs can't take a WAF web ACL themselves: the optional CloudFront + WAF
 * front (EdgeProtection, context `keywatch:edge`) adds a per-IP rate-based rule on /reports.
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
        SECURITY_ALERTS_TOPIC_ARN: props.securityAlerts.topicArn,
      },
    })
      // recordFindings reads and quarantines keys, and opens incidents; a misuse report looks a keyId up (byKeyId).
      .useTable("keys", props.keys, [...TABLE_ACCESS.recordFindings.keys, "QueryIndex"])
      .useTable("incidents", props.incidents, TABLE_ACCESS.recordFindings.incidents);
    this.ipPepper.grantRead(this.reportsApi.fn);
    // Reports and counters: one write action each, and only on this feature's own items.
    this.grantOwnItems(props.reports, "reports", "dynamodb:PutItem", "REPORT#*");
    this.grantOwnItems(props.state, "state", "dynamodb:UpdateItem", "RATE#report#*", "HEALTH#report_form");
    props.securityAlerts.grantPublish(this.reportsApi.fn);

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
    props.api.throttleRoute(HttpMethod.POST, "/reports", REPORTS_ROUTE_THROTTLE);
  }

  /**
   * The CloudFront front is on: the per-network budget keys on the viewer address CloudFront
   * vouches for, and posts sent around the front (straight to execute-api) are refused.
   */
  trustFront(originVerify: ISecret): void {
    this.reportsApi.fn.addEnvironment("ORIGIN_VERIFY_SECRET_ID", originVerify.secretArn);
    originVerify.grantRead(this.reportsApi.fn);
  }

  private grantOwnItems(
    table: ITable,
    key: "reports" | "state",
    action: string,
    ...leadingKeys: string[]
  ): void {
    this.reportsApi.fn.addToRolePolicy(
      new PolicyStatement({
        actions: [action],
        resources: [table.tableArn],
        conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": leadingKeys } },
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
