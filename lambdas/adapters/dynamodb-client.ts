import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";

export interface DynamoDbConnection {
  /** Set for DynamoDB Local or any other endpoint; unset on AWS. */
  endpoint?: string;
  region?: string;
}

/**
 * How long an AWS SDK call may take, end to end. The SDK's `requestTimeout` alone only logs a
 * warning unless `throwOnRequestTimeout` is set (a frozen DynamoDB held a form post 90 s), and
 * it bounds one attempt, not the call: `callDeadlineMs` aborts the whole call, retries included.
 */
export interface SdkDeadline {
  /** TCP connect, per attempt. */
  connectionTimeoutMs: number;
  /** Request sent → response read, per attempt; exceeding it throws (TimeoutError) and retries. */
  requestTimeoutMs: number;
  maxAttempts: number;
  /** The whole call including retries and backoff: an AbortSignal ends it (AbortError). */
  callDeadlineMs: number;
}

/**
 * Deadlines by caller. `interactive`: a person or GitHub waits on the answer (a form post or a
 * partner delivery gets its 503 within ~5 s of DynamoDB freezing, far inside GitHub's 30 s). `background`: the notifier, scanners and CLI (a Lambda's timeout is longer).
 */
export const SDK_DEADLINES = {
  interactive: { connectionTimeoutMs: 1_000, requestTimeoutMs: 2_000, maxAttempts: 3, callDeadlineMs: 5_000 },
  background: { connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000, maxAttempts: 3, callDeadlineMs: 20_000 },
} as const satisfies Record<string, SdkDeadline>;

/** A request handler whose request timeout is an error, not a warning. */
export function deadlineRequestHandler(deadline: SdkDeadline): NodeHttpHandler {
  return new NodeHttpHandler({
    connectionTimeout: deadline.connectionTimeoutMs,
    requestTimeout: deadline.requestTimeoutMs,
    throwOnRequestTimeout: true,
  });
}

/** The part of an SDK client this needs: `send(command, options)`. */
interface Sends {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * Gives every `send` on the client an AbortSignal that fires after `callDeadlineMs`, unless the
 * caller passed its own. The SDK stops the call (in flight or between retries) when it fires.
 */
export function withCallDeadline<C extends object>(client: C, deadline: SdkDeadline): C {
  const sends = client as unknown as Sends;
  const send = sends.send.bind(client);
  sends.send = (command, options) =>
    send(command, {
      ...options,
      abortSignal: options?.abortSignal ?? AbortSignal.timeout(deadline.callDeadlineMs),
    });
  return client;
}

/**
 * The DynamoDB document client every adapter uses: a real deadline per call (see SdkDeadline;
 * `background` unless the caller answers a person or GitHub) and the SDK's adaptive retry
 * (throttling-aware backoff), so a slow, throttled or frozen table can't hang a Lambda or a request.
 */
export function createDocumentClient(
  connection: DynamoDbConnection = {},
  deadline: SdkDeadline = SDK_DEADLINES.background,
): DynamoDBDocumentClient {
  const local = connection.endpoint !== undefined;
  const client = new DynamoDBClient({
    region: connection.region ?? process.env.AWS_REGION ?? (local ? "local" : undefined),
    ...(local
      ? { endpoint: connection.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } }
      : {}),
    maxAttempts: deadline.maxAttempts,
    retryMode: "adaptive",
    requestHandler: deadlineRequestHandler(deadline),
  });
  return withCallDeadline(
    DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    deadline,
  );
}
