import { Duration, Stack, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { StartingPosition } from "aws-cdk-lib/aws-lambda";
import { DynamoEventSource, SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { KeyAuthorizer } from "./key-authorizer.js";
import { KeywatchFunction } from "./keywatch-function.js";
import { TABLE_ACCESS } from "./table-access.js";

export interface LeakResponseProps {
  alarmTopic: ITopic;
  dataKey: IKey;
  tables: { keys: ITable; incidents: ITable; notifications: ITable; reports: ITable };
  securityAlerts: ITopic;
  keyEvents: ITopic;
  keyPrefixes: string;
  /** Verified SES identity the owner emails come from; context `keywatch:sesSender`. */
  sesSender?: string;
}

export const DEFAULT_SES_SENDER = "security@example.com";

/**
 * The notifier driven by the incidents table's stream (owner email via SES, security alert and
 * key event via SNS), its stream dead-letter queue and alarms, and the key authorizer.
 */
export class LeakResponse extends Construct {
  readonly notifier: KeywatchFunction;
  readonly streamDeadLetters: Queue;
  readonly keyAuthorizer: KeyAuthorizer;

  constructor(scope: Construct, id: string, props: LeakResponseProps) {
    super(scope, id);
    const sender =
      props.sesSender ?? String(this.node.tryGetContext("keywatch:sesSender") ?? DEFAULT_SES_SENDER);
    const common = { alarmTopic: props.alarmTopic, dataKey: props.dataKey };

    this.notifier = new KeywatchFunction(this, "Notifier", {
      ...common,
      handler: "notifier",
      description: "keywatch: incidents stream → owner email (SES), security alert and key event (SNS)",
      timeout: Duration.seconds(60),
      environment: {
        SES_SENDER: sender,
        SECURITY_TOPIC_ARN: props.securityAlerts.topicArn,
        KEY_EVENTS_TOPIC_ARN: props.keyEvents.topicArn,
      },
    })
      .useTable("incidents", props.tables.incidents, TABLE_ACCESS.notifier.incidents)
      // The owner's contact only: the notifier never changes the registry.
      .useTable("keys", props.tables.keys, TABLE_ACCESS.notifier.keys)
      .useTable("notifications", props.tables.notifications, TABLE_ACCESS.notifier.notifications)
      .useTable("reports", props.tables.reports, TABLE_ACCESS.notifier.reports);
    props.securityAlerts.grantPublish(this.notifier.fn);
    props.keyEvents.grantPublish(this.notifier.fn);

    const stack = Stack.of(this);
    const domain = sender.split("@")[1] ?? sender;
    this.notifier.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["ses:SendEmail", "ses:SendRawEmail"],
        // The sender's identity only (as an address or its verified domain).
        resources: [
          stack.formatArn({ service: "ses", resource: "identity", resourceName: sender }),
          stack.formatArn({ service: "ses", resource: "identity", resourceName: domain }),
        ],
      }),
    );

    this.streamDeadLetters = new Queue(this, "StreamDeadLetters", {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.dataKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.streamDeadLetters).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: "This queue is itself the notifier's stream dead-letter queue; its depth is alarmed.",
    });
    this.notifier.alarmOnDepth(this.streamDeadLetters, "StreamDeadLettersAlarm");

    this.notifier.fn.addEventSource(
      new DynamoEventSource(props.tables.incidents, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 25,
        maxBatchingWindow: Duration.seconds(1),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        retryAttempts: 8,
        maxRecordAge: Duration.hours(24),
        onFailure: new SqsDlq(this.streamDeadLetters),
      }),
    );

    this.keyAuthorizer = new KeyAuthorizer(this, "KeyAuthorizer", {
      ...common,
      keysTable: props.tables.keys,
      keyPrefixes: props.keyPrefixes,
    });
  }
}
