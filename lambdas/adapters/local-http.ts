import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";

/** An HTTP API (payload v2) handler: the same function runs behind API Gateway and in the local server. */
export type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Route {
  method: "GET" | "POST";
  /** Path with optional `{name}` parameters, e.g. `/api/incidents/{id}`. */
  path: string;
  handler: HttpHandler;
}

/** Requests above this are cut off before they are buffered (API Gateway's own payload limit is 10 MB). */
export const LOCAL_MAX_BODY_BYTES = 10 * 1024 * 1024;

function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith("{") && w.endsWith("}")) {
      if (!g) return undefined;
      params[w.slice(1, -1)] = decodeURIComponent(g);
    } else if (w !== g) return undefined;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Buffer | "too_large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LOCAL_MAX_BODY_BYTES) return "too_large";
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Builds the API Gateway v2 event for a Node request, as API Gateway would (binary bodies base64). */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const queryStringParameters: Record<string, string> = {};
  for (const [name, value] of url.searchParams) queryStringParameters[name] = value;
  const text = body.toString("utf8");
  const isText = Buffer.from(text, "utf8").equals(body);
  const now = Date.now();
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters,
    pathParameters,
    requestContext: {
      accountId: "local",
      apiId: "local",
      domainName: headers.host ?? "localhost",
      domainPrefix: "localhost",
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey,
      stage: "$default",
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: body.length === 0 ? undefined : isText ? text : body.toString("base64"),
    isBase64Encoded: body.length > 0 && !isText,
  } as APIGatewayProxyEventV2;
}

/** Node `request` listener that dispatches to the routes like API Gateway does. */
export function routeRequests(routes: Route[]) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const candidates = routes
      .map((route) => ({ route, params: matchPath(route.path, path) }))
      .filter((c): c is { route: Route; params: Record<string, string> } => c.params !== undefined);
    const match = candidates.find((c) => c.route.method === req.method);
    if (!match) {
      res.writeHead(candidates.length > 0 ? 405 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: candidates.length > 0 ? "Method Not Allowed" : "Not Found" }));
      return;
    }
    const body = await readBody(req);
    if (body === "too_large") {
      res.writeHead(413, { "content-type": "application/json", connection: "close" });
      res.end(JSON.stringify({ message: "Request Entity Too Large" }));
      return;
    }
    const routeKey = `${match.route.method} ${match.route.path}`;
    try {
      const result = await match.route.handler(toApiGatewayEvent(req, body, routeKey, match.params));
      const headers: Record<string, string | number | boolean> = { ...(result.headers ?? {}) };
      if (result.cookies?.length) headers["set-cookie"] = result.cookies.join(", ");
      res.writeHead(result.statusCode ?? 200, headers as Record<string, string>);
      res.end(result.isBase64Encoded ? Buffer.from(result.body ?? "", "base64") : (result.body ?? ""));
    } catch {
      // Same as API Gateway: a handler that throws is a 500 with no detail leaked.
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Internal Server Error" }));
    }
  };
}
