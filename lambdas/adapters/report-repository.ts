import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { MisuseReportRecord } from "../domain/misuse-report.js";
import type { ReportRecord } from "../domain/report.js";

/** The reports table as the report API (writes) and the notifier (reads, for the alert) see it. */
export interface ReportRepository {
  save(report: ReportRecord | MisuseReportRecord): Promise<void>;
  get(reportId: string): Promise<ReportRecord | undefined>;
}

export class ReportStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ReportStoreError";
  }
}

export function createReportRepository(client: DynamoDBDocumentClient, table: string): ReportRepository {
  return {
    async save(report) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: report,
            // Report ids are random; a collision must fail loudly rather than overwrite a report.
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      } catch (error) {
        throw new ReportStoreError(`report ${report.reportId} could not be stored`, { cause: error });
      }
    },
    async get(reportId) {
      const result = await client.send(
        new GetCommand({ TableName: table, Key: { pk: `REPORT#${reportId}` }, ConsistentRead: true }),
      );
      return result.Item as ReportRecord | undefined;
    },
  };
}
