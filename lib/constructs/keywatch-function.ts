import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Architecture, LoggingFormat, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { TABLES, type TableKey } from "../../lambdas/adapters/table-specs.js";
import { type TableAction, WRITE_ACTIONS } from "./table-access.js";

export interface KeywatchFunctionProps {
  /** Handler file under lambdas/handlers/, without extension, e.g. "notifier". */
  handler: string;
  description: string;
  timeout?: Duration;
  memorySize?: number;
  environment?: Record<string, string>;
  reservedConcurrentExecutions?: number;
  /** Invoked asynchronously (EventBridge, SNS, S3): failed events go to a DLQ with a depth alarm. */
  async?: boolean;
  alarmTopic: ITopic;
  dataKey: IKey;
  /** Absolute paths of data files copied next to the bundle (read at `/var/task/<file name>`). */
  bundledFiles?: string[];
}

const HANDLERS_DIR = fileURLToPath(new URL("../../lambdas/handlers/", import.meta.url));

/**
 * A keywatch Lambda: Node.js 22 on arm64, bundled by esbuild, JSON logs with a retention,
 * X-Ray tracing, an errors alarm, and (for async invocations) a dead-letter queue with an alarm.
 * `useTable` grants the exact actions on one table and passes its name the way
 * lambdas/adapters/config.ts reads it.
 */
export class KeywatchFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly deadLetterQueue?: Queue;
  readonly errorsAlarm: Alarm;
  private readonly alarmTopic: ITopic;
  private readonly acknowledged = new Set<string>();

  constructor(scope: Construct, id: string, props: KeywatchFunctionProps) {
    super(scope, id);
    this.alarmTopic = props.alarmTopic;
    const logGroup = new LogGroup(this, "Logs", {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    if (props.async) {
      this.deadLetterQueue = new Queue(this, "DeadLetters", {
        encryption: QueueEncryption.KMS,
        encryptionMasterKey: props.dataKey,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(this.deadLetterQueue).acknowledge({
        id: "AwsSolutions-SQS3",
        reason: "This queue is itself a dead-letter queue; its depth is alarmed.",
      });
      this.alarmOnDepth(this.deadLetterQueue, "DeadLettersAlarm");
    }
    // Own role instead of AWSLambdaBasicExecutionRole: logs only to this function's log group.
    const role = new Role(this, "Role", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
    logGroup.grantWrite(role);
    this.fn = new NodejsFunction(this, "Function", {
      role,
      entry: `${HANDLERS_DIR}${props.handler}.ts`,
      handler: "handler",
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      environment: { NODE_OPTIONS: "--enable-source-maps", ...props.environment },
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      ...(this.deadLetterQueue ? { deadLetterQueue: this.deadLetterQueue, retryAttempts: 2 } : {}),
      bundling: {
        format: OutputFormat.ESM,
        target: "node22",
        minify: true,
        sourceMap: true,
        // ESM bundles need a require shim for the CommonJS dependencies esbuild inlines.
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        ...(props.bundledFiles?.length
          ? {
              commandHooks: {
                beforeBundling: () => [],
                beforeInstall: () => [],
                afterBundling: (_input: string, output: string) =>
                  (props.bundledFiles ?? []).map((file) => `cp "${file}" "${output}/"`),
              },
            }
          : {}),
      },
    });
    Validations.of(this.fn).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "keywatch pins Node.js 22 (the team's supported LTS); upgrades are a deliberate change, not drift.",
    });
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason: "X-Ray PutTraceSegments/PutTelemetryRecords do not support resource-level permissions.",
    });
    this.errorsAlarm = new Alarm(this, "ErrorsAlarm", {
      alarmDescription: `${props.handler}: invocation errors`,
      metric: this.fn.metricErrors({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.errorsAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
  }

  /**
   * Grants exactly `actions` on the table (and its indexes) and sets the env var the runtime reads
   * its name from. The data key gets decrypt for reads, plus encrypt for writes, as CDK's own
   * grantReadData/grantWriteData do; nothing else (no Scan, DeleteItem or BatchWriteItem unless listed).
   */
  useTable(key: TableKey, table: ITable, actions: readonly TableAction[]): this {
    if (actions.length === 0) throw new Error(`useTable(${key}): no actions to grant`);
    const unique = [...new Set(actions)].sort();
    const onTable = unique.filter((a) => a !== "QueryIndex");
    if (onTable.length > 0) {
      this.fn.addToRolePolicy(
        new PolicyStatement({ actions: onTable.map((a) => `dynamodb:${a}`), resources: [table.tableArn] }),
      );
    }
    // Only the GSIs' ARN, and only for Query: item actions can't address an index anyway.
    const indexed = unique.includes("QueryIndex");
    if (indexed) {
      if (TABLES[key].indexes.length === 0)
        throw new Error(`useTable(${key}): QueryIndex on a table without indexes`);
      this.fn.addToRolePolicy(
        new PolicyStatement({ actions: ["dynamodb:Query"], resources: [`${table.tableArn}/index/*`] }),
      );
    }
    const writes = unique.some((action) => WRITE_ACTIONS.has(action));
    table.encryptionKey?.grant(
      this.fn,
      "kms:Decrypt",
      "kms:DescribeKey",
      ...(writes ? ["kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"] : []),
    );
    this.fn.addEnvironment(TABLES[key].envVar, table.tableName);
    this.acknowledgeTableGrant(table, indexed);
    return this;
  }

  /**
   * A table grant's only wildcards, acknowledged where the grant is made: the table's own GSIs
   * (`<table>/index/*`) and the KMS data-key actions DynamoDB needs on the customer-managed key.
   */
  private acknowledgeTableGrant(table: ITable, indexed: boolean): void {
    const grants = this.fn.role?.node.tryFindChild("DefaultPolicy");
    if (!grants) return;
    const acknowledge = (id: string, reason: string) => {
      if (this.acknowledged.has(id)) return;
      this.acknowledged.add(id);
      Validations.of(grants).acknowledge({ id, reason });
    };
    for (const action of ["kms:ReEncrypt*", "kms:GenerateDataKey*"]) {
      acknowledge(
        `AwsSolutions-IAM5[Action::${action}]`,
        "Data-key actions DynamoDB (and SNS/SQS) need on keywatch's customer-managed key, from the grants.",
      );
    }
    if (!indexed) return;
    acknowledge(
      `AwsSolutions-IAM5[Resource::${nagArnOf(table)}/index/*]`,
      "Query on this table's own GSIs (granted by useTable for QueryIndex only); no other table.",
    );
  }

  /** An alarm when a queue (a DLQ) holds any message. */
  alarmOnDepth(queue: Queue, id: string): Alarm {
    const alarm = new Alarm(this, id, {
      alarmDescription: `messages waiting in dead-letter queue ${id}`,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.alarmTopic));
    return alarm;
  }
}

/**
 * A table's ARN as cdk-nag prints it in IAM5 finding ids: tables live in the stateful stack, so it
 * is the name of the export the cross-stack reference uses (exportValue is idempotent).
 */
function nagArnOf(table: ITable): string {
  const producer = Stack.of(table);
  const imported = producer.resolve(producer.exportValue(table.tableArn)) as { "Fn::ImportValue": string };
  return imported["Fn::ImportValue"];
}
