import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
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
import { type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import { KeywatchFunction } from "./keywatch-function.js";
import { TABLE_ACCESS } from "./table-access.js";

export interface GitHubScannersProps {
  tables: { keys: ITable; incidents: ITable; state: ITable };
  /** Comma-separated key prefixes. */
  keyPrefixes: string;
  /** Secret holding a GitHub token (no scopes needed for public data); created (retained) when absent. */
  githubToken?: ISecret;
  /**
   * Pushes diffed / pushes seen (%, per hour) below which the poller alarms (default 10). On the
   * real feed a gap in the 300-event window is permanent, so the alarm is on a ratio, not on gaps.
   */
  diffCoverageThreshold?: number;
  /** New events seen / events published (%, per hour, from event-id spans) below which it alarms (default 1). */
  eventCoverageThreshold?: number;
  alarmTopic: ITopic;
  dataKey: IKey;
}

const DEFAULT_GITHUB_API_URL = "https://api.github.com";

/**
 * The scheduled GitHub scanners: the public-events poller (every minute) and the code-search
 * sweep (every 15 minutes). One run at a time by a lease in the state table (reserved concurrency
 * fails to deploy in accounts with a low concurrency quota), failed invocations to a DLQ, errors,
 * coverage-ratio and token alarms, the token read from Secrets Manager by ARN at cold start.
 */
export class GitHubScanners extends Construct {
  readonly poller: KeywatchFunction;
  readonly sweep: KeywatchFunction;
  readonly token: ISecret;
  readonly diffCoverageAlarm: Alarm;
  readonly eventCoverageAlarm: Alarm;
  readonly tokenAlarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: GitHubScannersProps) {
    super(scope, id);
    const githubApiUrl = String(this.node.tryGetContext("keywatch:githubApiUrl") ?? DEFAULT_GITHUB_API_URL);
    this.token = props.githubToken ?? this.createTokenSecret();
    const common = {
      alarmTopic: props.alarmTopic,
      dataKey: props.dataKey,
      async: true,
    };
    const environment = {
      GITHUB_API_URL: githubApiUrl,
      GITHUB_TOKEN_SECRET_ARN: this.token.secretArn,
      KEY_PREFIXES: props.keyPrefixes,
    };

    this.poller = new KeywatchFunction(this, "EventsPoller", {
      ...common,
      handler: "events-poller",
      description: "keywatch: GitHub public-events poller (diffs, comments, releases)",
      memorySize: 1024,
      // Ends before the next minute's run.
      timeout: Duration.seconds(55),
      environment: { ...environment, POLLER_MAX_API_CALLS: "56" },
    });
    this.sweep = new KeywatchFunction(this, "CodeSearchSweep", {
      ...common,
      handler: "code-search-sweep",
      description: "keywatch: GitHub code-search sweep (9 searches/min)",
      memorySize: 512,
      // 9 searches a minute for 13 minutes, ending before the next 15-minute run.
      timeout: Duration.minutes(14),
      environment: { ...environment, SWEEP_MAX_SEARCH_REQUESTS: "110" },
    });
    for (const scanner of [this.poller, this.sweep]) {
      // recordFindings reads and quarantines keys and opens incidents; the state table holds the cursors.
      scanner
        .useTable("keys", props.tables.keys, TABLE_ACCESS.recordFindings.keys)
        .useTable("incidents", props.tables.incidents, TABLE_ACCESS.recordFindings.incidents)
        .useTable(
          "state",
          props.tables.state,
          (scanner === this.poller ? TABLE_ACCESS.eventsPollerState : TABLE_ACCESS.codeSearchSweepState)
            .state,
        );
      this.token.grantRead(scanner.fn);
    }

    new Rule(this, "PollSchedule", {
      description: "keywatch: poll GitHub public events",
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.poller.fn, { retryAttempts: 0 })],
    });
    new Rule(this, "SweepSchedule", {
      description: "keywatch: GitHub code-search sweep",
      schedule: Schedule.rate(Duration.minutes(15)),
      targets: [new LambdaFunction(this.sweep.fn, { retryAttempts: 0 })],
    });

    const pollerMetric = (metricName: string) =>
      new Metric({
        namespace: "keywatch",
        metricName,
        dimensionsMap: { service: "events-poller" },
        statistic: "Sum",
        period: Duration.hours(1),
      });
    this.diffCoverageAlarm = this.ratioAlarm("DiffCoverageAlarm", {
      description: "events poller: share of new pushes whose diff was scanned fell below the threshold",
      numerator: pollerMetric("PushesDiffed"),
      denominator: pollerMetric("PushesSeen"),
      thresholdPercent: props.diffCoverageThreshold ?? 10,
      alarmTopic: props.alarmTopic,
    });
    this.eventCoverageAlarm = this.ratioAlarm("EventCoverageAlarm", {
      description: "events poller: share of published public events it saw fell below the threshold",
      numerator: pollerMetric("EventsNew"),
      denominator: pollerMetric("EventsPublished"),
      thresholdPercent: props.eventCoverageThreshold ?? 1,
      alarmTopic: props.alarmTopic,
    });
    for (const [scanner, service] of [
      [this.poller, "events-poller"],
      [this.sweep, "code-search-sweep"],
    ] as const) {
      this.tokenAlarms.push(this.tokenAlarm(scanner, service, props.alarmTopic));
    }
  }

  /** 100 × a/b over an hour, below the threshold; an hour with nothing seen is not a breach. */
  private ratioAlarm(
    id: string,
    options: {
      description: string;
      numerator: Metric;
      denominator: Metric;
      thresholdPercent: number;
      alarmTopic: ITopic;
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      alarmDescription: options.description,
      metric: new MathExpression({
        expression: "IF(b > 0, 100 * a / b, 100)",
        usingMetrics: { a: options.numerator, b: options.denominator },
        period: Duration.hours(1),
        label: "coverage %",
      }),
      threshold: options.thresholdPercent,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(options.alarmTopic));
    return alarm;
  }

  /** A placeholder token or a 401: the scanner skips its runs (instead of failing each minute) and this says so. */
  static tokenAlarmDescription(service: string): string {
    return `${service}: GitHub token missing (placeholder) or rejected (401); runs are skipped until it is set`;
  }

  tokenAlarm(scanner: KeywatchFunction, service: string, alarmTopic: ITopic): Alarm {
    const alarm = new Alarm(scanner, "TokenRejectedAlarm", {
      alarmDescription: GitHubScanners.tokenAlarmDescription(service),
      metric: new Metric({
        namespace: "keywatch",
        metricName: "TokenRejected",
        dimensionsMap: { service },
        statistic: "Sum",
        period: Duration.minutes(15),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(alarmTopic));
    return alarm;
  }

  private createTokenSecret(): Secret {
    // Secrets Manager's own key: the data key lives in the stateful stack, and a key-policy grant to
    // this stack's roles would make the two stacks depend on each other.
    const secret = new Secret(this, "GitHubToken", {
      description: "keywatch: GitHub token for the events poller and code search (set after deploy)",
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(secret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "A GitHub personal access token can't be rotated by a Lambda: it is issued on GitHub and replaced there.",
    });
    return secret;
  }
}
