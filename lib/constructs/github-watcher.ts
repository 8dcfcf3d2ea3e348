import { CfnOutput, Duration } from "aws-cdk-lib";
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import type { GitHubScanners } from "./github-scanners.js";
import { KeywatchFunction } from "./keywatch-function.js";
import { TABLE_ACCESS } from "./table-access.js";

export interface GitHubWatcherProps {
  tables: { keys: ITable; incidents: ITable; state: ITable; watchList: ITable };
  keyPrefixes: string;
  /** The GitHub scanners: their token secret is the watcher's, their token alarm is reused. */
  scanners: GitHubScanners;
  /** GitHub calls the watcher may make an hour (default 1,200; see docs/github-scanners.md "Watch lists"). */
  maxApiCallsPerHour?: number;
  /** At most this many of them in one run (default 60). */
  maxApiCallsPerRun?: number;
  /** (Pushes diffed + unreachable) / pushes seen (%, per hour) below which it alarms (default 95). */
  coverageThreshold?: number;
  /** A watched feed unread for longer than this (seconds, over 15 minutes) alarms (default 600). */
  maxFeedAgeSeconds?: number;
  alarmTopic: ITopic;
  dataKey: IKey;
}

const DEFAULT_GITHUB_API_URL = "https://api.github.com";
const SERVICE = "github-watcher";

/**
 * The watch-list watcher (issue 12 point 4): every minute, each watched owner's or repository's
 * events with ETags, every push diffed. One run at a time by a lease in the state table, failed
 * invocations to a DLQ (KeywatchFunction), errors, token, coverage and lag alarms.
 */
export class GitHubWatcher extends Construct {
  readonly watcher: KeywatchFunction;
  readonly coverageAlarm: Alarm;
  readonly lagAlarm: Alarm;
  readonly tokenAlarm: Alarm;

  constructor(scope: Construct, id: string, props: GitHubWatcherProps) {
    super(scope, id);
    const token: ISecret = props.scanners.token;
    this.watcher = new KeywatchFunction(this, "Watcher", {
      alarmTopic: props.alarmTopic,
      dataKey: props.dataKey,
      async: true,
      handler: "github-watcher",
      description: "keywatch: GitHub watch-list watcher (every push of watched owners and repos)",
      memorySize: 512,
      // Ends before the next minute's run.
      timeout: Duration.seconds(55),
      environment: {
        GITHUB_API_URL: String(this.node.tryGetContext("keywatch:githubApiUrl") ?? DEFAULT_GITHUB_API_URL),
        GITHUB_TOKEN_SECRET_ARN: token.secretArn,
        KEY_PREFIXES: props.keyPrefixes,
        WATCHER_MAX_API_CALLS: String(props.maxApiCallsPerRun ?? 60),
        WATCHER_MAX_API_CALLS_PER_HOUR: String(props.maxApiCallsPerHour ?? 1200),
      },
    });
    this.watcher
      .useTable("keys", props.tables.keys, TABLE_ACCESS.recordFindings.keys)
      .useTable("incidents", props.tables.incidents, TABLE_ACCESS.recordFindings.incidents)
      .useTable("state", props.tables.state, TABLE_ACCESS.githubWatcher.state)
      .useTable("watchList", props.tables.watchList, TABLE_ACCESS.githubWatcher.watchList);
    token.grantRead(this.watcher.fn);

    new Rule(this, "Schedule", {
      description: "keywatch: poll watched GitHub owners and repositories",
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.watcher.fn, { retryAttempts: 0 })],
    });

    const metric = (metricName: string, statistic: string, period: Duration) =>
      new Metric({
        namespace: "keywatch",
        metricName,
        dimensionsMap: { service: SERVICE },
        statistic,
        period,
      });
    this.coverageAlarm = new Alarm(this, "CoverageAlarm", {
      alarmDescription:
        "github watcher: share of watched pushes diffed (or found unreachable) fell below the threshold",
      metric: new MathExpression({
        expression: "IF(seen > 0, 100 * (diffed + unreachable) / seen, 100)",
        usingMetrics: {
          seen: metric("PushesSeen", "Sum", Duration.hours(1)),
          diffed: metric("PushesDiffed", "Sum", Duration.hours(1)),
          unreachable: metric("PushesUnreachable", "Sum", Duration.hours(1)),
        },
        period: Duration.hours(1),
        label: "watched push coverage %",
      }),
      threshold: props.coverageThreshold ?? 95,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.lagAlarm = new Alarm(this, "LagAlarm", {
      alarmDescription: "github watcher: a watched feed has not been read for longer than the threshold",
      metric: metric("OldestFeedAgeSeconds", "Maximum", Duration.minutes(15)),
      threshold: props.maxFeedAgeSeconds ?? 600,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.coverageAlarm, this.lagAlarm])
      alarm.addAlarmAction(new SnsAction(props.alarmTopic));
    this.tokenAlarm = props.scanners.tokenAlarm(this.watcher, SERVICE, props.alarmTopic);
    new CfnOutput(this, "WatchListTableName", {
      description:
        "keywatch watch add|list|remove on the deployed list: WATCH_LIST_TABLE=<this> (with AWS credentials)",
      value: props.tables.watchList.tableName,
    });
  }
}
