import type { APIGatewayProxyEventV2 } from "aws-lambda";

export interface ReportRequest {
  method?: "GET" | "POST";
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  isBase64Encoded?: boolean;
  sourceIp?: string;
  host?: string;
}

/** An HTTP API (payload v2) event as API Gateway builds it for the report form's routes. */
export function apiEvent(request: ReportRequest = {}): APIGatewayProxyEventV2 {
  const method = request.method ?? "POST";
  const path = request.path ?? "/reports";
  const host = request.host ?? "reports.example.test";
  return {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: { host, ...request.headers },
    requestContext: {
      accountId: "test",
      apiId: "test",
      domainName: host,
      domainPrefix: "reports",
      http: {
        method,
        path,
        protocol: "HTTP/1.1",
        sourceIp: request.sourceIp ?? "198.51.100.23",
        userAgent: "vitest",
      },
      requestId: "req-1",
      routeKey: `${method} ${path}`,
      stage: "$default",
      time: new Date(0).toISOString(),
      timeEpoch: 0,
    },
    ...(request.body !== undefined ? { body: request.body } : {}),
    isBase64Encoded: request.isBase64Encoded ?? false,
  };
}

/** A form post as a browser without JavaScript sends it. */
export function formPost(fields: Record<string, string>, extra: ReportRequest = {}): APIGatewayProxyEventV2 {
  return apiEvent({
    ...extra,
    headers: { "content-type": "application/x-www-form-urlencoded", ...extra.headers },
    body: new URLSearchParams(fields).toString(),
  });
}

export function jsonPost(payload: unknown, extra: ReportRequest = {}): APIGatewayProxyEventV2 {
  return apiEvent({
    ...extra,
    headers: { "content-type": "application/json", ...extra.headers },
    body: JSON.stringify(payload),
  });
}
