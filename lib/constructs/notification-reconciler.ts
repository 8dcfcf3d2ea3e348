import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { KeywatchFunction } from "./keywatch-function.js";
import { sesSendStatement } from "./leak-response.js";
import { TABLE_ACCESS } from "./table-access.js";

export interface NotificationReconcilerProps {
  alarmTopic: ITopic;
  dataKey: IKey;
  tables: { keys: ITable; incidents: ITable; notifications: ITable; reports: ITable };
  securityAlerts: ITopic;
  keyEvents: ITopic;
  /** The notifier's SES identity: the reconciler sends as the same one, with the same permission. */
  sesSender: string;
}

/**
 * Every 5 minutes, the sweep behind the incidents stream (lambdas/handlers/notification-reconciler.ts):
 * claims stuck in `sending` past the lease and incidents `open` for more than 5 minutes are
 * finished. Alarms when it found anything (a crash left notifications behind), on errors
 * (something stays stranded) and on its dead-letter queue.
 */
export class NotificationReconciler extends Construct {
  readonly fn: KeywatchFunction;
  readonly behindAlarm: Alarm;

  constructor(scope: Construct, id: string, props: NotificationReconcilerProps) {
    super(scope, id);
    this.fn = new KeywatchFunction(this, "Reconciler", {
      alarmTopic: props.alarmTopic,
      dataKey: props.dataKey,
      handler: "notification-reconciler",
      description: "keywatch: resumes notifications a crash left half done (stuck claims, open incidents)",
      // Ends well before the next run; each notification's SDK calls have their own deadlines.
      timeout: Duration.minutes(2),
      async: true,
      environment: {
        SES_SENDER: props.sesSender,
        SECURITY_TOPIC_ARN: props.securityAlerts.topicArn,
        KEY_EVENTS_TOPIC_ARN: props.keyEvents.topicArn,
      },
    })
      .useTable("incidents", props.tables.incidents, TABLE_ACCESS.notificationReconciler.incidents)
      .useTable("keys", props.tables.keys, TABLE_ACCESS.notificationReconciler.keys)
      .useTable(
        "notifications",
        props.tables.notifications,
        TABLE_ACCESS.notificationReconciler.notifications,
      )
      .useTable("reports", props.tables.reports, TABLE_ACCESS.notificationReconciler.reports);
    props.securityAlerts.grantPublish(this.fn.fn);
    props.keyEvents.grantPublish(this.fn.fn);
    this.fn.fn.addToRolePolicy(sesSendStatement(this, props.sesSender));

    new Rule(this, "Schedule", {
      description: "keywatch: notification reconciler",
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(this.fn.fn, { retryAttempts: 2 })],
    });

    this.behindAlarm = new Alarm(this, "NotificationsBehindAlarm", {
      alarmDescription:
        "notifications left behind by a crash (stuck claims or incidents open > 5 min) were found and resumed",
      metric: new Metric({
        namespace: "keywatch",
        metricName: "NotificationsBehind",
        dimensionsMap: { service: "notification-reconciler" },
        statistic: "Sum",
        period: Duration.minutes(15),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.behindAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
  }
}
