import { Duration } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { KeywatchFunction } from "./keywatch-function.js";
import { TABLE_ACCESS } from "./table-access.js";

export interface UnknownKeyDigestProps {
  tables: { incidents: ITable; notifications: ITable };
  securityAlerts: ITopic;
  alarmTopic: ITopic;
  dataKey: IKey;
}

/** How often closed windows are looked for; a window's digest leaves at most this long after it closes. */
export const DIGEST_SCHEDULE = Duration.minutes(5);

/**
 * The unknown-key digest sender (lambdas/handlers/unknown-key-digest.ts) on a 5-minute schedule:
 * failed invocations (after EventBridge's async retries) go to a dead-letter queue with a depth
 * alarm, errors alarm. It reads and seals windows in the incidents table, claims each digest in
 * the notifications ledger and publishes to the security topic.
 */
export class UnknownKeyDigest extends Construct {
  readonly sender: KeywatchFunction;

  constructor(scope: Construct, id: string, props: UnknownKeyDigestProps) {
    super(scope, id);
    this.sender = new KeywatchFunction(this, "Sender", {
      alarmTopic: props.alarmTopic,
      dataKey: props.dataKey,
      async: true,
      handler: "unknown-key-digest",
      description: "keywatch: one security alert per source and window of unknown (unregistered) keys",
      memorySize: 256,
      timeout: Duration.seconds(60),
      environment: { SECURITY_TOPIC_ARN: props.securityAlerts.topicArn },
    })
      .useTable("incidents", props.tables.incidents, TABLE_ACCESS.unknownKeyDigest.incidents)
      .useTable("notifications", props.tables.notifications, TABLE_ACCESS.unknownKeyDigest.notifications);
    props.securityAlerts.grantPublish(this.sender.fn);

    new Rule(this, "Schedule", {
      description: "keywatch: send unknown-key digests for closed windows",
      schedule: Schedule.rate(DIGEST_SCHEDULE),
      // Retried by the next run anyway (pending windows stay pending); failures land in the DLQ.
      targets: [new LambdaFunction(this.sender.fn, { retryAttempts: 2 })],
    });
  }
}
