import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { incidentKeys } from "./dynamodb-incident-repository.js";

/**
 * Ids of incidents in state `open` whose last update is before `updatedBefore`, from the
 * byState index (`gsi1sk = <updatedAt>#<incidentId>`, so a key range is a time range); leaked
 * and unknown keys alike. The index is eventually consistent: the caller re-reads each incident.
 */
export function createStaleOpenIncidents(client: DynamoDBDocumentClient, tableName: string) {
  return async (updatedBefore: string): Promise<string[]> => {
    const ids: string[] = [];
    for (const kind of ["leaked_key", "unknown_key"] as const) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: "byState",
            KeyConditionExpression: "gsi1pk = :open AND gsi1sk < :before",
            ExpressionAttributeValues: {
              ":open": incidentKeys.statePartition(kind, "open"),
              ":before": updatedBefore,
            },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          if (typeof item.incidentId === "string") ids.push(item.incidentId);
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }
    return ids;
  };
}
