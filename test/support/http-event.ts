import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** An HTTP API (payload v2) event as API Gateway builds it, for calling handlers directly. */
export function httpEvent(
  routeKey: string,
  options: {
    path?: string;
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    headers?: Record<string, string>;
    body?: string;
    sourceIp?: string;
  } = {},
): APIGatewayProxyEventV2 {
  const [method = "GET", routePath = "/"] = routeKey.split(" ");
  const path =
    options.path ??
    routePath.replace(/\{(\w+)\}/g, (_, name: string) =>
      encodeURIComponent(options.pathParameters?.[name] ?? ""),
    );
  const query = new URLSearchParams(options.query ?? {}).toString();
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: query,
    headers: options.headers ?? {},
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: "test",
      apiId: "test",
      domainName: "localhost",
      domainPrefix: "localhost",
      http: {
        method,
        path,
        protocol: "HTTP/1.1",
        sourceIp: options.sourceIp ?? "192.0.2.10",
        userAgent: "test",
      },
      requestId: "req-test",
      routeKey,
      stage: "$default",
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: false,
  } as APIGatewayProxyEventV2;
}
