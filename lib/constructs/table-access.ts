/**
 * The DynamoDB actions each adapter sends, per table: what `KeywatchFunction.useTable` grants and
 * nothing more (issue 13 item 8). test/infra/least-privilege.test.ts pins every role's list and
 * checks each function's bundle sends no DynamoDB command it isn't granted.
 *
 * IAM checks TransactWriteItems per item (Put → PutItem, Update → UpdateItem) and BatchWriteItem
 * as one action whatever its requests are, so those are what appear here.
 */
export type TableAction =
  | "GetItem"
  | "BatchGetItem"
  | "Query"
  /** Query on the table's GSIs (the `/index/*` ARN), apart from Query on the table itself. */
  | "QueryIndex"
  | "Scan"
  | "ConditionCheckItem"
  | "PutItem"
  | "UpdateItem"
  | "DeleteItem"
  | "BatchWriteItem";

/** Actions that change items: granting any of them also grants the data key's encrypt actions. */
export const WRITE_ACTIONS: ReadonlySet<TableAction> = new Set([
  "PutItem",
  "UpdateItem",
  "DeleteItem",
  "BatchWriteItem",
]);

export const TABLE_ACCESS = {
  /** recordFindings (finding-recorder.ts): reads a key and quarantines it; reads, opens and extends incidents. */
  recordFindings: {
    keys: ["GetItem", "BatchGetItem", "UpdateItem"],
    incidents: ["GetItem", "BatchGetItem", "PutItem", "UpdateItem"],
  },
  /** The key authorizer: one consistent GetItem per key hash. */
  keyAuthorizer: { keys: ["GetItem"] },
  /** The notifier: incident details (table Query) and its notified transition, the owner's key, its ledger, a report's description. */
  notifier: {
    incidents: ["GetItem", "Query", "PutItem", "UpdateItem"],
    keys: ["GetItem"],
    notifications: ["GetItem", "PutItem", "UpdateItem", "DeleteItem"],
    reports: ["GetItem"],
  },
  /** The console API: lists (byState GSI) and details (table Query), actions (UpdateItem + audit PutItem), anomaly counts (byTime GSI). */
  consoleApi: {
    incidents: ["GetItem", "BatchGetItem", "Query", "QueryIndex", "PutItem", "UpdateItem"],
    anomalies: ["Query", "QueryIndex", "UpdateItem"],
    keys: ["GetItem", "UpdateItem"],
    notifications: ["BatchGetItem"],
    reports: ["GetItem"],
    state: ["BatchGetItem"],
  },
  /** The anomaly detector: key status by keyId (byKeyId GSI), anomalies batch-written, baselines and alert state. */
  anomalyDetector: {
    keys: ["QueryIndex"],
    anomalies: ["BatchWriteItem"],
    state: ["BatchGetItem", "PutItem", "UpdateItem"],
  },
  /** The events poller's state: cursor (Get/Put), claimed events (conditional Put), seen set and backlog (BatchWrite, Query). */
  eventsPollerState: { state: ["GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"] },
  /** The code-search sweep's state: cursor, seen locations (BatchGet/BatchWrite), queued repos (Query, DeleteItem). */
  codeSearchSweepState: {
    state: ["GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"],
  },
  /** The unknown-key digest: pending windows (byState GSI), sealed and marked (UpdateItem), example incidents, its ledger. */
  unknownKeyDigest: {
    incidents: ["GetItem", "QueryIndex", "UpdateItem"],
    notifications: ["GetItem", "PutItem", "UpdateItem", "DeleteItem"],
  },
  /** The notification reconciler: the notifier's grants, stale open incidents (byState GSI) and stuck ledger claims (sparse bySending GSI). */
  notificationReconciler: {
    incidents: ["GetItem", "Query", "QueryIndex", "PutItem", "UpdateItem"],
    keys: ["GetItem"],
    notifications: ["GetItem", "QueryIndex", "PutItem", "UpdateItem", "DeleteItem"],
    reports: ["GetItem"],
  },
  /** The watch-list watcher: entries and feed cursors (Query, cursor Put); its lease, claims, backlog and health in the state table. */
  githubWatcher: {
    watchList: ["Query", "PutItem"],
    state: ["Query", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"],
  },
  /** A channel's latest run (scanner-health.ts): one UpdateItem on its `HEALTH#` item. */
  scannerHealth: { state: ["UpdateItem"] },
} as const satisfies Record<string, Record<string, readonly TableAction[]>>;
