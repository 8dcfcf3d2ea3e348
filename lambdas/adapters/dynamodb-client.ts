import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";

export interface DynamoDbConnection {
  /** Set for DynamoDB Local or any other endpoint; unset on AWS. */
  endpoint?: string;
  region?: string;
}

/**
 * The DynamoDB document client every adapter uses: bounded timeouts and the SDK's adaptive
 * retry (throttling-aware backoff), so a slow or throttled table can't hang a Lambda.
 */
export function createDocumentClient(connection: DynamoDbConnection = {}): DynamoDBDocumentClient {
  const local = connection.endpoint !== undefined;
  const client = new DynamoDBClient({
    region: connection.region ?? process.env.AWS_REGION ?? (local ? "local" : undefined),
    ...(local
      ? { endpoint: connection.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    maxAttempts: 5,
    retryMode: "adaptive",
    requestHandler: new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 5_000 }),
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}
