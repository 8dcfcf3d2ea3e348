import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { plantKeys } from "../../bin/local/local-services.js";
import { startStreamPump } from "../../bin/local/stream-pump.js";
import { createSnsAlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createDocumentClient, SDK_DEADLINES } from "../../lambdas/adapters/dynamodb-client.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createSesEmailSender } from "../../lambdas/adapters/email-sender.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import { createGitHubClient, webUrlFor } from "../../lambdas/adapters/github-client.js";
import { createGitHubEventsApi } from "../../lambdas/adapters/github-events-api.js";
import { createGitHubScanState } from "../../lambdas/adapters/github-scan-state.js";
import type { Finding } from "../../lambdas/domain/finding.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import { DEFAULT_POLL_SETTINGS, pollEvents } from "../../lambdas/domain/poll-events.js";
import { makeNotifierHandler, notifierDeps } from "../../lambdas/handlers/notifier.js";
import { createRecordedShapeEventStream, startGitHubStandIn } from "../../standin/github/github-stand-in.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A DynamoDB client whose every `every`-th request is throttled before it leaves (the SDK retries it). */
function throttledClient(endpoint: string, every: number) {
  // One request in ten throttled drives the adaptive retry's client-side rate limiter far below
  // anything a real table does; the per-call deadline is tested on its own (sdk-deadline.test.ts),
  // so here calls get a minute and the test asks only that nothing is lost or sent twice.
  const client = createDocumentClient({ endpoint }, { ...SDK_DEADLINES.background, callDeadlineMs: 60_000 });
  let calls = 0;
  const throttled = { count: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      calls++;
      if (calls % every === 0) {
        throttled.count++;
        throw Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
          name: "ProvisionedThroughputExceededException",
          $fault: "client",
          $metadata: { httpStatusCode: 400 },
        });
      }
      return next(args);
    },
    { step: "deserialize", name: "injectThrottling" },
  );
  return { client, throttled };
}

async function issue(t: TestTables, project = "reliability") {
  const keys = createKeyRepository(t.client, t.names.keys);
  return (await issueKey(project, "owner@example.com", { keys, clock: fixedClock("2026-03-01T00:00:00Z") }))
    .rawKey;
}

function findingFor(raw: string, i: number): Finding {
  return {
    keyHash: keyHash(raw),
    redacted: redactKey(raw),
    source: i % 2 === 0 ? "github_partner" : "github_event",
    location: { url: `https://github.com/octo/repo${i % 5}/blob/main/.env` },
    seenAt: "2026-03-01T00:00:00.000Z",
  };
}

describe("DynamoDB throttling + SES and SNS failures", () => {
  it("loses nothing and sends nothing twice: one incident, one email, one security alert", async () => {
    // Arrange: every 10th DynamoDB request throttled; SES fails twice, SNS once, then both recover.
    const t = await createTestTables();
    const raw = await issue(t);
    const { client, throttled } = throttledClient(t.endpoint, 10);
    const ses = mockClient(SESv2Client);
    ses
      .on(SendEmailCommand)
      .rejectsOnce(new Error("Throttling"))
      .rejectsOnce(new Error("Throttling"))
      .resolves({});
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).rejectsOnce(new Error("InternalError")).resolves({ MessageId: "m" });
    stops.push(async () => {
      ses.restore();
      sns.restore();
    });
    const notifier = makeNotifierHandler(
      notifierDeps({
        client,
        tables: t.names,
        email: createSesEmailSender(new SESv2Client({ region: "us-east-1" })),
        alerts: createSnsAlertPublisher(new SNSClient({ region: "us-east-1" }), {
          security: "arn:aws:sns:us-east-1:111111111111:security",
          keyEvents: "arn:aws:sns:us-east-1:111111111111:key-events",
        }),
        sender: "keywatch@example.com",
      }),
    );
    const pump = await startStreamPump({
      endpoint: t.endpoint,
      tableName: t.names.incidents,
      handler: notifier,
      pollMs: 100,
    });
    stops.push(() => pump.stop());

    // Act: 20 channels report the same key concurrently (5 distinct places), through the throttled client.
    const record = createFindingRecorder({ client, tables: t.names });
    await Promise.all(Array.from({ length: 20 }, (_, i) => record([findingFor(raw, i)])));
    await pump.drained(60_000);

    // Assert
    const incidents = createIncidentRepository(t.client, t.names.incidents);
    const page = await incidents.list();
    const securityAlerts = sns
      .commandCalls(PublishCommand)
      .filter((call) => call.args[0].input.TopicArn?.endsWith(":security"));
    expect({
      throttledRequests: throttled.count > 0,
      incidents: page.incidents.length,
      occurrences: page.incidents[0]?.occurrenceCount,
      sesAttempts: ses.commandCalls(SendEmailCommand).length,
      securityAlertAttempts: securityAlerts.length,
    }).toEqual({
      throttledRequests: true,
      incidents: 1,
      occurrences: 5,
      sesAttempts: 3,
      securityAlertAttempts: 2,
    });
  });
});

describe("GitHub answering 5xx", () => {
  it("finds every planted key exactly once after the outage", async () => {
    // Arrange: two of our keys planted in a recorded-shape stream; /events fails 3 times first.
    const t = await createTestTables();
    const keys = [await issue(t, "p1"), await issue(t, "p2")];
    const stream = createRecordedShapeEventStream({ count: 120, plantedKeys: 2, pushRatio: 0.2, seed: 11 });
    plantKeys(stream, keys);
    const standIn = await startGitHubStandIn({ stream, publishAll: true, pollIntervalSeconds: 0 });
    stops.push(() => standIn.stop());
    standIn.injectFault({ path: "/events", kind: "server_error", count: 3, status: 502 });
    const github = createGitHubClient({ baseUrl: standIn.url, retries: 0 });
    const clock = fixedClock("2026-03-01T00:00:00Z");
    const deps = {
      api: createGitHubEventsApi(github),
      state: createGitHubScanState({ client: t.client, tableName: t.names.state, now: () => clock.now() }),
      recordFindings: createFindingRecorder({ client: t.client, tables: t.names }),
      now: () => clock.now(),
      settings: { ...DEFAULT_POLL_SETTINGS, prefixes: ["smk_"], webUrl: webUrlFor(standIn.url) },
    };

    // Act: six scheduled runs, ten minutes apart.
    const stopped: (string | undefined)[] = [];
    for (let run = 0; run < 6; run++) {
      github.setDeadline(Date.now() + 20_000);
      stopped.push((await pollEvents(deps)).stopped);
      clock.advance(10 * 60_000);
    }

    // Assert
    const incidents = await createIncidentRepository(t.client, t.names.incidents).list();
    expect({
      outageSeen: stopped.includes("unavailable"),
      incidents: incidents.incidents.map((i) => [i.keyHash, i.occurrenceCount]).sort(),
    }).toEqual({
      outageSeen: true,
      incidents: keys.map((k) => [keyHash(k), 1]).sort(),
    });
  });
});
