/**
 * The one definition of keywatch's DynamoDB tables: the CDK stateful stack builds them from
 * here, and so do DynamoDB Local (tests, `npm start`). No CDK imports, so runtime code can use it.
 */
export interface IndexSpec {
  name: string;
  partitionKey: string;
  sortKey?: string;
}

export interface TableSpec {
  /** CDK construct id and the local table name's suffix. */
  id: string;
  /** Environment variable that carries the table's name to the Lambdas and the CLI. */
  envVar: string;
  partitionKey: string;
  sortKey?: string;
  /** Epoch-seconds attribute DynamoDB expires items by. Required where personal data is held. */
  ttlAttribute?: string;
  stream?: "NEW_AND_OLD_IMAGES";
  indexes: IndexSpec[];
  /** What the table holds, for docs/privacy.md and reviews. */
  purpose: string;
  personalData: boolean;
}

export const TABLES = {
  keys: {
    id: "Keys",
    envVar: "KEYS_TABLE",
    partitionKey: "keyHash",
    ttlAttribute: "expiresAt",
    indexes: [
      { name: "byProject", partitionKey: "projectId", sortKey: "createdAt" },
      { name: "byOwner", partitionKey: "ownerEmail", sortKey: "createdAt" },
      /** keyId = first 16 hex of keyHash: what the authorizer puts in access logs. */
      { name: "byKeyId", partitionKey: "keyId" },
    ],
    purpose: "Key registry: sha256 of each issued key, project, owner contact, status.",
    personalData: true,
  },
  incidents: {
    id: "Incidents",
    envVar: "INCIDENTS_TABLE",
    partitionKey: "pk",
    sortKey: "sk",
    ttlAttribute: "expiresAt",
    stream: "NEW_AND_OLD_IMAGES",
    indexes: [
      { name: "byState", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
      /** The console queue's other sort orders over the same kind + state partitions. */
      { name: "byOpened", partitionKey: "gsi1pk", sortKey: "openedSk" },
      { name: "bySeverity", partitionKey: "gsi1pk", sortKey: "severitySk" },
      /** Console search: one term item per key id, redacted key, project, repository, URL. */
      { name: "byTerm", partitionKey: "termpk", sortKey: "termsk" },
    ],
    purpose: "One incident per leaked key, its occurrences (locations) and audit trail.",
    personalData: false,
  },
  notifications: {
    id: "Notifications",
    envVar: "NOTIFICATIONS_TABLE",
    partitionKey: "pk",
    ttlAttribute: "expiresAt",
    indexes: [
      /** Sparse: only claims still `sending` carry `sendingPk`; the reconciler sweeps them by age. */
      { name: "bySending", partitionKey: "sendingPk", sortKey: "claimedAt" },
    ],
    purpose: "Idempotency records: one per (incident, notification kind, opening).",
    personalData: false,
  },
  anomalies: {
    id: "Anomalies",
    envVar: "ANOMALIES_TABLE",
    partitionKey: "pk",
    sortKey: "sk",
    ttlAttribute: "expiresAt",
    indexes: [{ name: "byTime", partitionKey: "gsi1pk", sortKey: "gsi1sk" }],
    purpose: "Request anomalies per key / client prefix, with truncated IP prefixes and countries.",
    personalData: true,
  },
  state: {
    id: "State",
    envVar: "STATE_TABLE",
    partitionKey: "pk",
    sortKey: "sk",
    ttlAttribute: "expiresAt",
    indexes: [],
    purpose: "Scanner cursors, seen sets, usage counters and baselines, rate-limit counters.",
    personalData: true,
  },
  reports: {
    id: "Reports",
    envVar: "REPORTS_TABLE",
    partitionKey: "pk",
    ttlAttribute: "expiresAt",
    indexes: [{ name: "byReporter", partitionKey: "reporterEmail", sortKey: "receivedAt" }],
    purpose: "User reports: where and what happened, reporter email (only to reply), expiring.",
    personalData: true,
  },
  watchList: {
    id: "WatchList",
    envVar: "WATCH_LIST_TABLE",
    partitionKey: "pk",
    sortKey: "sk",
    ttlAttribute: "expiresAt",
    indexes: [],
    purpose:
      "Watch lists: GitHub owners/repos a project watches (kept until `watch remove`), each feed's cursor (ETag, owner type, newest event).",
    // A watched user's GitHub login names a person: listed, exported with the project, removed on request.
    personalData: true,
  },
} as const satisfies Record<string, TableSpec>;

export type TableKey = keyof typeof TABLES;
export type TableNames = Record<TableKey, string>;

/** Names used where there is no CloudFormation to name tables (DynamoDB Local). */
export function localTableNames(prefix = "keywatch"): TableNames {
  const names = {} as TableNames;
  for (const [key, spec] of Object.entries(TABLES)) names[key as TableKey] = `${prefix}-${spec.id}`;
  return names;
}
