import { createRequire } from "node:module";
import { basename } from "node:path";
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import type { CfnStage, HttpStage } from "aws-cdk-lib/aws-apigatewayv2";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import {
  FilterPattern,
  type ILogGroup,
  LogGroup,
  RetentionDays,
  SubscriptionFilter,
} from "aws-cdk-lib/aws-logs";
import { LambdaDestination } from "aws-cdk-lib/aws-logs-destinations";
import { type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { ACCESS_LOG_FORMAT } from "./access-log-format.js";
import { KeywatchFunction } from "./keywatch-function.js";
import { TABLE_ACCESS } from "./table-access.js";

const GEO_DB = createRequire(import.meta.url).resolve(
  "@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb",
);
/** IP→ASN ranges (provider/ASN novelty, per-provider velocity), bundled like the country DB. */
const ASN_DB = createRequire(import.meta.url).resolve("@ip-location-db/asn/asn-ipv4-num.csv");

export interface AnomalyDetectionProps {
  /** The stage to adopt: its access logs are switched to the DESIGN.md format and streamed to the detector. */
  stage: HttpStage;
  /** Where the stage logs already go (kept); without it a 30-day log group is created. */
  accessLogs?: ILogGroup;
  tables: { keys: ITable; anomalies: ITable; state: ITable };
  securityAlerts: ITopic;
  alarmTopic: ITopic;
  dataKey: IKey;
  /** HMAC pepper for network pseudonyms; generated (and retained) when not given. */
  ipPepper?: ISecret;
  /** JSON overriding detector thresholds (see lambdas/domain/anomaly/thresholds.ts). */
  thresholds?: string;
}

/**
 * IP-based anomaly detection for an API Gateway HTTP API stage: the stage's JSON access-log
 * format, a subscription filter from its log group to the detector Lambda (async invocation:
 * two retries, then a dead-letter queue with a depth alarm; errors alarm), the IP pepper secret.
 */
export class AnomalyDetection extends Construct {
  readonly detector: KeywatchFunction;
  readonly accessLogs: ILogGroup;
  readonly ipPepper: ISecret;

  constructor(scope: Construct, id: string, props: AnomalyDetectionProps) {
    super(scope, id);
    this.accessLogs =
      props.accessLogs ??
      new LogGroup(this, "AccessLogs", {
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    const stage = props.stage.node.defaultChild as CfnStage;
    stage.accessLogSettings = {
      destinationArn: this.accessLogs.logGroupArn,
      format: ACCESS_LOG_FORMAT.toString(),
    };

    if (props.ipPepper) this.ipPepper = props.ipPepper;
    else {
      const pepper = new Secret(this, "IpPepper", {
        description: "keywatch: HMAC pepper for pseudonymous client-network ids",
        // AWS-managed key: a cross-stack grant on the data key's policy would make the stacks cyclic.
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(pepper).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "The pepper keys 30-day baselines and alert dedup; rotating it silently resets them, so it is rotated by a deliberate redeploy, not on a schedule.",
      });
      this.ipPepper = pepper;
    }

    this.detector = new KeywatchFunction(this, "Detector", {
      handler: "anomaly-detector",
      description: "keywatch: API access logs → anomalies (DynamoDB) and security alerts",
      memorySize: 1024,
      timeout: Duration.seconds(60),
      async: true,
      alarmTopic: props.alarmTopic,
      dataKey: props.dataKey,
      bundledFiles: [GEO_DB, ASN_DB],
      environment: {
        SECURITY_TOPIC_ARN: props.securityAlerts.topicArn,
        IP_PEPPER_SECRET_ARN: this.ipPepper.secretArn,
        GEO_DB_PATH: `/var/task/${basename(GEO_DB)}`,
        ASN_DB_PATH: `/var/task/${basename(ASN_DB)}`,
        ...(props.thresholds ? { ANOMALY_THRESHOLDS: props.thresholds } : {}),
      },
    })
      .useTable("keys", props.tables.keys, TABLE_ACCESS.anomalyDetector.keys)
      .useTable("anomalies", props.tables.anomalies, TABLE_ACCESS.anomalyDetector.anomalies)
      .useTable("state", props.tables.state, TABLE_ACCESS.anomalyDetector.state);
    props.securityAlerts.grantPublish(this.detector.fn);
    // The security topic is encrypted with the data key; granted on the role, not the key policy.
    this.detector.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
        resources: [props.dataKey.keyArn],
      }),
    );
    this.ipPepper.grantRead(this.detector.fn);

    new SubscriptionFilter(this, "Subscription", {
      logGroup: this.accessLogs,
      destination: new LambdaDestination(this.detector.fn),
      filterPattern: FilterPattern.allEvents(),
    });
  }
}
