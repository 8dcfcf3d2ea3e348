import { Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { Topic } from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { TABLES, type TableKey, type TableSpec } from "../lambdas/adapters/table-specs.js";

export type KeywatchTables = Record<TableKey, Table>;

/**
 * Context key for upgrading a deployed stack: DynamoDB creates (or deletes) one global secondary
 * index per table update, and CloudFormation rolls back an update that adds two. A stack deployed
 * before the console queue lacks three incident indexes; deploy with
 * `-c keywatch:indexRollout=incidents=2`, then `=3`, then without the flag (docs/deploy.md).
 * Value: comma-separated `table=count`, keeping only the first `count` indexes of that table's spec.
 */
export const INDEX_ROLLOUT_CONTEXT = "keywatch:indexRollout";

/** Parses the rollout context; a malformed value fails the synth instead of deploying a surprise. */
export function parseIndexRollout(value: unknown): Partial<Record<TableKey, number>> {
  if (value === undefined || value === "") return {};
  const limits: Partial<Record<TableKey, number>> = {};
  for (const part of String(value).split(",")) {
    const match = /^\s*([a-zA-Z]+)\s*=\s*(\d+)\s*$/.exec(part);
    const table = match?.[1] as TableKey | undefined;
    if (!match || !table || !(table in TABLES)) {
      throw new Error(
        `${INDEX_ROLLOUT_CONTEXT}: expected table=count pairs (tables: ${Object.keys(TABLES).join(", ")}), got "${part}"`,
      );
    }
    limits[table] = Number(match[2]);
  }
  return limits;
}

/**
 * Everything that holds data or identity: tables, topics and their encryption key.
 * Retained on delete, so redeploying or deleting the stateless stack never loses incidents.
 */
export class StatefulStack extends Stack {
  readonly tables: KeywatchTables;
  readonly dataKey: Key;
  /** Security team: one message per incident opening, high-severity anomaly, accepted report. */
  readonly securityAlerts: Topic;
  /** Owners' own systems: messages carry a `projectId` attribute for subscription filter policies. */
  readonly keyEvents: Topic;
  /** CloudWatch alarms (DLQ depth, errors, poller falling behind). */
  readonly operationsAlarms: Topic;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.dataKey = new Key(this, "DataKey", {
      description: "keywatch: encrypts tables, topics and queues",
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms publish to the encrypted alarm topic.
    this.dataKey.addToResourcePolicy(
      new PolicyStatement({
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        resources: ["*"],
      }),
    );

    const rollout = parseIndexRollout(this.node.tryGetContext(INDEX_ROLLOUT_CONTEXT));
    const tables = {} as KeywatchTables;
    for (const [key, spec] of Object.entries(TABLES) as [TableKey, TableSpec][]) {
      tables[key] = this.tableFor(spec, rollout[key]);
    }
    this.tables = tables;

    this.securityAlerts = this.topic("SecurityAlerts", "keywatch security alerts");
    this.keyEvents = this.topic("KeyEvents", "keywatch key events (filter by projectId)");
    this.operationsAlarms = this.topic("OperationsAlarms", "keywatch operations alarms");
  }

  private tableFor(spec: TableSpec, indexLimit?: number): Table {
    const attribute = (name: string) => ({ name, type: AttributeType.STRING });
    const table = new Table(this, `${spec.id}Table`, {
      partitionKey: attribute(spec.partitionKey),
      ...(spec.sortKey ? { sortKey: attribute(spec.sortKey) } : {}),
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.dataKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 35 },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(spec.ttlAttribute ? { timeToLiveAttribute: spec.ttlAttribute } : {}),
      ...(spec.stream ? { stream: StreamViewType.NEW_AND_OLD_IMAGES } : {}),
    });
    for (const index of spec.indexes.slice(0, indexLimit ?? spec.indexes.length)) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
      });
    }
    return table;
  }

  private topic(id: string, displayName: string): Topic {
    const topic = new Topic(this, id, { displayName, masterKey: this.dataKey, enforceSSL: true });
    topic.applyRemovalPolicy(RemovalPolicy.RETAIN);
    return topic;
  }
}

/** How long idempotency and seen-sets are kept; referenced by docs/privacy.md. */
export const IDEMPOTENCY_RETENTION = Duration.days(30);
