import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
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
  /** Coverage gaps per hour above which the poller is falling behind (default 2). */
  coverageGapThreshold?: number;
  alarmTopic: ITopic;
  dataKey: IKey;
}

const DEFAULT_GITHUB_API_URL = "https://api.github.com";

/**
 * The scheduled GitHub scanners: the public-events poller (every minute) and the code-search
 * sweep (every 15 minutes). One instance each (reserved concurrency 1), failed invocations to a
 * DLQ, errors and coverage-gap alarms, the token read from Secrets Manager by ARN at cold start.
 */
export class GitHubScanners extends Construct {
  readonly poller: KeywatchFunction;
  readonly sweep: KeywatchFunction;
  readonly token: ISecret;
  readonly coverageGapsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: GitHubScannersProps) {
    super(scope, id);
    const githubApiUrl = String(this.node.tryGetContext("keywatch:githubApiUrl") ?? DEFAULT_GITHUB_API_URL);
    this.token = props.githubToken ?? this.createTokenSecret();
    const common = {
      alarmTopic: props.alarmTopic,
      dataKey: props.dataKey,
      async: true,
      // One run at a time: with the seen-set and the versioned cursor, overlap can't double-scan anyway.
      reservedConcurrentExecutions: 1,
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
      environment: { ...environment, POLLER_MAX_API_CALLS: "60" },
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

    this.coverageGapsAlarm = new Alarm(this, "CoverageGapsAlarm", {
      alarmDescription: "events poller falling behind: GitHub's feed moved past events it never saw",
      metric: new Metric({
        namespace: "keywatch",
        metricName: "CoverageGaps",
        dimensionsMap: { service: "events-poller" },
        statistic: "Sum",
        period: Duration.hours(1),
      }),
      threshold: props.coverageGapThreshold ?? 2,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.coverageGapsAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
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
