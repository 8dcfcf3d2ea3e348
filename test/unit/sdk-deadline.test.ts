import { createServer, type Server, type Socket } from "node:net";
import { SendEmailCommand } from "@aws-sdk/client-sesv2";
import { PublishCommand } from "@aws-sdk/client-sns";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSnsClient } from "../../lambdas/adapters/alert-publisher.js";
import {
  createDocumentClient,
  SDK_DEADLINES,
  type SdkDeadline,
} from "../../lambdas/adapters/dynamodb-client.js";
import { createSesClient } from "../../lambdas/adapters/email-sender.js";

/**
 * A frozen dependency (issue 16 item 4): accepts connections, reads requests, never answers, like
 * a SIGSTOPped DynamoDB Local. Without throwOnRequestTimeout the SDK only warned and waited ~90 s.
 */
let frozen: Server;
let endpoint: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  frozen = createServer((socket) => {
    sockets.add(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => frozen.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(frozen.address() as { port: number }).port}`;
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => frozen.close(resolve));
});

/** A small deadline of the same shape, so the test takes a second, not the production 5-12 s. */
const fast: SdkDeadline = {
  connectionTimeoutMs: 500,
  requestTimeoutMs: 300,
  maxAttempts: 3,
  callDeadlineMs: 1_200,
};

async function elapsedUntilRejected(call: () => Promise<unknown>): Promise<{ ms: number; error: string }> {
  const started = Date.now();
  try {
    await call();
  } catch (error) {
    return { ms: Date.now() - started, error: (error as Error).name };
  }
  throw new Error("the call to a frozen endpoint succeeded");
}

describe("an AWS SDK call to a frozen dependency", () => {
  it("DynamoDB: is aborted at the call deadline, retries included, not after the SDK's ~90 s", async () => {
    const client = createDocumentClient({ endpoint, region: "local" }, fast);
    const { ms, error } = await elapsedUntilRejected(() =>
      client.send(new GetCommand({ TableName: "t", Key: { pk: "x" } })),
    );
    client.destroy();
    expect(ms).toBeGreaterThanOrEqual(fast.requestTimeoutMs);
    expect(ms).toBeLessThan(fast.callDeadlineMs + 1_000);
    expect(["TimeoutError", "AbortError"]).toContain(error);
  });

  it("SES: is aborted at the call deadline", async () => {
    const ses = createSesClient({ endpoint, deadline: fast });
    const { ms } = await elapsedUntilRejected(() =>
      ses.send(new SendEmailCommand({ Content: { Raw: { Data: new Uint8Array([1]) } } })),
    );
    expect(ms).toBeLessThan(fast.callDeadlineMs + 1_000);
  });

  it("SNS: is aborted at the call deadline", async () => {
    const sns = createSnsClient({ endpoint, deadline: fast });
    const { ms } = await elapsedUntilRejected(() =>
      sns.send(new PublishCommand({ TopicArn: "arn:aws:sns:eu-west-1:123456789012:t", Message: "m" })),
    );
    expect(ms).toBeLessThan(fast.callDeadlineMs + 1_000);
  });
});

describe("the deadlines by caller", () => {
  it("answer a person or GitHub within a few seconds, and bound a background call well inside a Lambda timeout", () => {
    expect(SDK_DEADLINES.interactive.callDeadlineMs).toBeLessThanOrEqual(5_000);
    expect(SDK_DEADLINES.background.callDeadlineMs).toBeLessThan(30_000);
  });
});
