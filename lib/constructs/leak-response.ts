import { Annotations, Duration, Stack, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { FilterCriteria, StartingPosition } from "aws-cdk-lib/aws-lambda";
import { DynamoEventSource, SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { NOTIFIER_STREAM_FILTERS } from "../../lambdas/adapters/notifier-stream-filter.js";
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

/** Placeholder the template carries while `keywatch:sesSender` is missing (synth reports an error). */
export const UNSET_SES_SENDER = "sender-not-configured@keywatch.invalid";

/** Domains no one can verify in SES (RFC 2606 / RFC 6761 reserved names): mail from them never leaves. */
const RESERVED_DOMAIN = /(^|\.)(example\.(com|net|org)|example|invalid|test|localhost|local)$/i;

/**
 * Why an SES sender can never send, or undefined when it can be verified. SES sends only from a
 * verified address or domain, and verification needs a mailbox or DNS records you control.
 */
export function sesSenderProblem(sender: string | undefined): string | undefined {
  const fix =
    "set the CDK context `keywatch:sesSender` to an address on a domain you have verified in SES " +
    "(e.g. `npx cdk deploy --all -c keywatch:sesSender=security@your-domain`); see docs/deploy.md";
  if (!sender) return `keywatch:sesSender is not set, so owner emails could never be sent: ${fix}`;
  const at = sender.lastIndexOf("@");
  const domain = sender.slice(at + 1);
  if (at <= 0 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(sender)) {
    return `keywatch:sesSender "${sender}" is not an email address: ${fix}`;
  }
  if (RESERVED_DOMAIN.test(domain)) {
    return `keywatch:sesSender "${sender}" is on the reserved domain ${domain}, which SES can never verify: ${fix}`;
  }
  return undefined;
}

/** SES send permission for the sender's identity only (as an address or its verified domain). */
export function sesSendStatement(scope: Construct, sender: string): PolicyStatement {
  const stack = Stack.of(scope);
  const domain = sender.split("@")[1] ?? sender;
  return new PolicyStatement({
    actions: ["ses:SendEmail", "ses:SendRawEmail"],
    resources: [
      stack.formatArn({ service: "ses", resource: "identity", resourceName: sender }),
      stack.formatArn({ service: "ses", resource: "identity", resourceName: domain }),
    ],
  });
}

/**
 * The notifier driven by the incidents table's stream (owner email via SES, security alert and
 * key event via SNS), its stream dead-letter queue and alarms, and the key authorizer.
 */
export class LeakResponse extends Construct {
  readonly notifier: KeywatchFunction;
  readonly streamDeadLetters: Queue;
  readonly keyAuthorizer: KeyAuthorizer;
  /** The SES identity owner emails come from (the reconciler sends as the same one). */
  readonly sesSender: string;

  constructor(scope: Construct, id: string, props: LeakResponseProps) {
    super(scope, id);
    const configured =
      props.sesSender ?? (this.node.tryGetContext("keywatch:sesSender") as string | undefined);
    const problem = sesSenderProblem(configured);
    // An error annotation fails `cdk synth`/`cdk deploy` with this message; tests still get a template.
    if (problem) Annotations.of(this).addError(problem);
    const sender = problem ? UNSET_SES_SENDER : (configured as string);
    this.sesSender = sender;
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

    this.notifier.fn.addToRolePolicy(sesSendStatement(this, sender));

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
        // Bounded by age, not by count: Lambda retries a failed stream record at once, so a count
        // (it was 8) is spent in seconds while a crashed attempt's claim holds its 90 s lease, and
        // the record was dead-lettered unsent. An hour outlasts the lease many times over; the
        // reconciler sweeps whatever still falls through to the DLQ.
        retryAttempts: 10_000,
        maxRecordAge: Duration.hours(1),
        onFailure: new SqsDlq(this.streamDeadLetters),
        // Only openings, reopenings and reported locations invoke the notifier (not every write).
        filters: NOTIFIER_STREAM_FILTERS.map((pattern) => FilterCriteria.filter(pattern)),
      }),
    );

    this.keyAuthorizer = new KeyAuthorizer(this, "KeyAuthorizer", {
      ...common,
      keysTable: props.tables.keys,
      keyPrefixes: props.keyPrefixes,
    });
  }
}
