import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";

/** `GET /healthz`: liveness of the API and its Lambda integration. */
export async function handler(): Promise<APIGatewayProxyStructuredResultV2> {
  return {
    statusCode: 200,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
    body: JSON.stringify({ status: "ok" }),
  };
}
