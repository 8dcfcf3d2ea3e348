import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
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

/** Host names the local server answers to on `/api/*` (with the port it listens on). */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "[::1]"];

/** Paths whose requests must come from an allowed Host and, when a browser sends one, Origin. */
const GUARDED_PREFIX = "/api/";

export interface LocalHttpOptions {
  /**
   * Extra host names (no port) accepted in `Host` and `Origin` on `/api/*`, besides the loopback
   * names. The port must always be the one the server listens on.
   */
  allowedHosts?: readonly string[];
  /** Told about every request that failed inside the server (never the request's content). */
  onError?: (routeKey: string, error: unknown) => void;
}

/** Timeouts of the local server: a client that stalls gets a 408 and its socket back, never a held slot. */
export interface LocalServerTimeouts {
  /** Time to receive the request line and all headers (slowloris). */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included (a body dripped a byte at a time). */
  requestTimeoutMs: number;
  /** Idle time allowed on a kept-alive connection between requests. */
  keepAliveTimeoutMs: number;
  /** How often Node checks the two timeouts above (they fire at most this late). */
  checkIntervalMs: number;
  /**
   * A socket with no traffic at all for this long is closed (a connection opened and left
   * silent). Longer than any handler may run: it also counts while a handler works.
   */
  idleTimeoutMs: number;
}

export const DEFAULT_LOCAL_TIMEOUTS: LocalServerTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  idleTimeoutMs: 120_000,
};

/** A request the server refuses before any handler runs; becomes a 4xx answer. */
export class LocalRequestError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "LocalRequestError";
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    // `%ZZ` or a lone `%E0`: a URIError that used to escape the listener and end the process.
    throw new LocalRequestError(400, "malformed percent-encoding in the request path", { cause: error });
  }
}

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
      params[w.slice(1, -1)] = g;
    } else if (w !== g) return undefined;
  }
  // Decoded only once the route matched, so a bad escape in an unknown path is still a 404.
  for (const [name, raw] of Object.entries(params)) params[name] = decodeSegment(raw);
  return params;
}

function parseRequestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? "/", "http://localhost");
  } catch (error) {
    throw new LocalRequestError(400, "malformed request target", { cause: error });
  }
}

/** Reads the body up to the limit; rejects when the client goes away before it is complete. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > LOCAL_MAX_BODY_BYTES) {
    throw new LocalRequestError(413, `request body larger than ${LOCAL_MAX_BODY_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > LOCAL_MAX_BODY_BYTES) {
        throw new LocalRequestError(413, `request body larger than ${LOCAL_MAX_BODY_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof LocalRequestError) throw error;
    throw new LocalRequestError(400, "request body ended before it was complete", { cause: error });
  }
  // Some aborts end the stream quietly: a body shorter than declared never reaches a handler.
  if (!req.complete) throw new LocalRequestError(400, "request body ended before it was complete");
  return Buffer.concat(chunks, size);
}

function splitHost(value: string): { name: string; port: string } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!match) return undefined;
  return { name: (match[1] as string).toLowerCase(), port: match[2] ?? "" };
}

/**
 * DNS rebinding and cross-site guard for `/api/*`: a page on another site that resolves its own
 * name to 127.0.0.1 sends its own name as Host, and a cross-site fetch carries its Origin.
 */
export function checkApiCaller(req: IncomingMessage, allowedHosts: ReadonlySet<string>): void {
  const port = String(req.socket.localPort ?? "");
  const host = splitHost(req.headers.host ?? "");
  if (!host || !allowedHosts.has(host.name) || host.port !== port) {
    throw new LocalRequestError(
      421,
      `Host ${JSON.stringify(req.headers.host ?? "")} is not this server: /api/* answers only to ${[...allowedHosts].map((h) => `${h}:${port}`).join(", ")} (DNS rebinding guard)`,
    );
  }
  const origin = req.headers.origin;
  if (origin === undefined) {
    // Browsers send Origin on every cross-origin request; what is left are same-origin GETs and non-browser clients.
    if (req.headers["sec-fetch-site"] === "cross-site") {
      throw new LocalRequestError(403, "cross-site request refused on /api/*");
    }
    return;
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(origin);
  } catch {
    parsed = undefined;
  }
  const originHost = parsed ? splitHost(parsed.host) : undefined;
  const originPort = parsed ? parsed.port || (parsed.protocol === "https:" ? "443" : "80") : "";
  if (
    !parsed ||
    (parsed.protocol !== "http:" && parsed.protocol !== "https:") ||
    !originHost ||
    !allowedHosts.has(originHost.name) ||
    originPort !== port
  ) {
    throw new LocalRequestError(
      403,
      `Origin ${JSON.stringify(origin)} may not call /api/*: only pages served by this server may`,
    );
  }
}

/** Builds the API Gateway v2 event for a Node request, as API Gateway would (binary bodies base64). */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
): APIGatewayProxyEventV2 {
  const url = parseRequestUrl(req);
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

/** An error answer, if the response can still carry one; otherwise the connection is dropped. */
function answerError(res: ServerResponse, statusCode: number, message: string): void {
  if (res.headersSent || res.writableEnded || res.destroyed) {
    res.destroy();
    return;
  }
  // 413 and aborted bodies leave unread bytes on the socket: close it rather than parse them as a request.
  const close = statusCode === 413 || statusCode === 400;
  res.writeHead(statusCode, {
    "content-type": "application/json",
    ...(close ? { connection: "close" } : {}),
  });
  res.end(JSON.stringify({ message }));
}

function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  const headers: Record<string, string | number | boolean> = { ...(result.headers ?? {}) };
  if (result.cookies?.length) headers["set-cookie"] = result.cookies.join(", ");
  // writeHead throws on an invalid status or header value: caught by the caller as a 500.
  res.writeHead(result.statusCode ?? 200, headers as Record<string, string>);
  res.end(result.isBase64Encoded ? Buffer.from(result.body ?? "", "base64") : (result.body ?? ""));
}

async function dispatch(
  routes: Route[],
  allowedHosts: ReadonlySet<string>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const path = parseRequestUrl(req).pathname;
  if (path.startsWith(GUARDED_PREFIX)) checkApiCaller(req, allowedHosts);
  const candidates: { route: Route; params: Record<string, string> }[] = [];
  let decodeError: unknown;
  for (const route of routes) {
    try {
      const params = matchPath(route.path, path);
      if (params) candidates.push({ route, params });
    } catch (error) {
      decodeError = error;
    }
  }
  const match = candidates.find((c) => c.route.method === req.method);
  if (!match) {
    if (decodeError) throw decodeError;
    const allowed = candidates.length > 0;
    answerError(res, allowed ? 405 : 404, allowed ? "Method Not Allowed" : "Not Found");
    req.resume();
    return;
  }
  const routeKey = `${match.route.method} ${match.route.path}`;
  const body = await readBody(req);
  let result: APIGatewayProxyStructuredResultV2;
  try {
    result = await match.route.handler(toApiGatewayEvent(req, body, routeKey, match.params));
  } catch (error) {
    // Same as API Gateway: a handler that throws is a 500 with no detail leaked.
    throw new HandlerFailure(routeKey, error);
  }
  if (res.destroyed) return;
  try {
    writeResult(res, result);
  } catch (error) {
    throw new HandlerFailure(routeKey, error);
  }
}

class HandlerFailure extends Error {
  constructor(
    readonly routeKey: string,
    cause: unknown,
  ) {
    super(`${routeKey} failed`, { cause });
    this.name = "HandlerFailure";
  }
}

/**
 * Node `request` listener that dispatches to the routes like API Gateway does. Whatever a
 * request does (bad escapes, a body cut off mid-way, a handler that throws), its failure is a
 * 4xx/5xx answer or a dropped connection, never an exception that ends the process.
 */
export function routeRequests(routes: Route[], options: LocalHttpOptions = {}) {
  const allowedHosts = new Set(
    [...LOOPBACK_HOSTS, ...(options.allowedHosts ?? [])].map((h) => h.toLowerCase()),
  );
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // A client that resets the connection makes these emit 'error'; without a listener that is fatal.
    req.on("error", () => {});
    res.on("error", () => {});
    try {
      await dispatch(routes, allowedHosts, req, res);
    } catch (error) {
      if (error instanceof LocalRequestError) {
        answerError(res, error.statusCode, error.message);
        // Drain what is left so the 4xx reaches a client still sending (it is small: the limit holds).
        if (!req.complete && error.statusCode !== 413) req.resume();
        return;
      }
      const routeKey = error instanceof HandlerFailure ? error.routeKey : `${req.method} ${req.url}`;
      options.onError?.(routeKey, error instanceof HandlerFailure ? error.cause : error);
      answerError(res, 500, "Internal Server Error");
    }
  };
}

/**
 * The local HTTP server: the routes above, plus timeouts so a client that stalls on its headers
 * or drips its body can't hold a connection, and a 400 for requests Node can't parse.
 */
export function createLocalHttpServer(
  routes: Route[],
  options: LocalHttpOptions & { timeouts?: Partial<LocalServerTimeouts> } = {},
): Server {
  const timeouts = { ...DEFAULT_LOCAL_TIMEOUTS, ...options.timeouts };
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      keepAliveTimeout: timeouts.keepAliveTimeoutMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    },
    routeRequests(routes, options),
  );
  server.setTimeout(timeouts.idleTimeoutMs, (socket) => socket.destroy());
  // A client that half-closes after its request still gets the answer: by default Node aborts the
  // request on the client's FIN, which loses any answer a handler is still awaiting (DynamoDB, say).
  Object.assign(server, { httpAllowHalfOpen: true });
  return server;
}
