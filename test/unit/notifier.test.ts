import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { type CustomMatcher, toReceiveCommandTimes, toReceiveCommandWith } from "aws-sdk-client-mock-vitest";
import { beforeEach, describe, expect, it } from "vitest";
import { createSnsAlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createSesEmailSender } from "../../lambdas/adapters/email-sender.js";
import { composeMimeMessage } from "../../lambdas/adapters/mime-message.js";
import type {
  AuditEntry,
  Incident,
  IncidentRepository,
  IncidentState,
  Occurrence,
} from "../../lambdas/domain/incident.js";
import { generateKey, keyHash, keyIdOf, redactKey } from "../../lambdas/domain/key-format.js";
import type { KeyRecord } from "../../lambdas/domain/key-record.js";
import type { NotificationLedger, NotifyDeps } from "../../lambdas/domain/notify-incident.js";
import { makeNotifierHandler } from "../../lambdas/handlers/notifier.js";

declare module "vitest" {
  // biome-ignore lint/suspicious/noExplicitAny: must match vitest's own `Matchers<T = any>` declaration
  interface Matchers<T = any> extends CustomMatcher<T> {}
}
expect.extend({ toReceiveCommandWith, toReceiveCommandTimes });

const ses = mockClient(SESv2Client);
const sns = mockClient(SNSClient);
const clock = fixedClock("2026-03-01T10:00:00.000Z");

/** In-memory ledger: what matters here is whether a notification is marked sent. */
function memoryLedger() {
  const records = new Map<string, "sending" | "sent">();
  const ledger: NotificationLedger = {
    async claim(id) {
      const status = records.get(id);
      if (status === "sent") return "sent";
      if (status === "sending") return "in_flight";
      records.set(id, "sending");
      return "claimed";
    },
    async markSent(id) {
      records.set(id, "sent");
    },
    async release(id) {
      records.delete(id);
    },
  };
  return { ledger, records };
}

function scenario() {
  const rawKey = generateKey();
  const hash = keyHash(rawKey);
  const incident: Incident = {
    incidentId: "inc_0123456789abcdef0123",
    kind: "leaked_key",
    keyHash: hash,
    keyId: keyIdOf(hash),
    redacted: redactKey(rawKey),
    projectId: "proj-1",
    state: "open",
    severity: "high",
    opening: 1,
    sources: ["github_event"],
    occurrenceCount: 1,
    openedAt: clock.now().toISOString(),
    updatedAt: clock.now().toISOString(),
    lastSeenAt: clock.now().toISOString(),
    version: 1,
  };
  const occurrence: Occurrence = {
    incidentId: incident.incidentId,
    fingerprint: "f".repeat(32),
    source: "github_event",
    location: { repo: "octo/demo", path: "a.env", url: "https://github.com/octo/demo/blob/main/a.env" },
    seenAt: clock.now().toISOString(),
    recordedAt: clock.now().toISOString(),
    opening: 1,
  };
  const key: KeyRecord = {
    keyHash: hash,
    keyId: keyIdOf(hash),
    projectId: "proj-1",
    ownerEmail: "owner@example.com",
    status: "compromised",
    redacted: redactKey(rawKey),
    createdAt: clock.now().toISOString(),
    updatedAt: clock.now().toISOString(),
  };
  const transitions: Array<{ to: IncidentState; audit: AuditEntry }> = [];
  const incidents: IncidentRepository = {
    get: async () => incident,
    details: async () => ({ incident, occurrences: [occurrence], audit: [] }),
    transition: async (_current, to, audit) => {
      transitions.push({ to, audit });
      return true;
    },
    open: async () => "exists",
    addOccurrence: async () => ({ outcome: "duplicate" }),
    list: async () => ({ incidents: [] }),
  };
  const { ledger, records } = memoryLedger();
  const email = createSesEmailSender(new SESv2Client({ region: "eu-west-1", maxAttempts: 1 }));
  const alerts = createSnsAlertPublisher(new SNSClient({ region: "eu-west-1", maxAttempts: 1 }), {
    security: "arn:aws:sns:eu-west-1:123456789012:security",
    keyEvents: "arn:aws:sns:eu-west-1:123456789012:key-events",
  });
  const deps: NotifyDeps = {
    incidents,
    keys: { get: async () => key },
    ledger,
    sendEmail: (e) => email.send(e),
    publish: (a) => alerts.publish(a),
    composeEmail: (input) => composeMimeMessage({ ...input, from: "security@example.com" }),
    reportDescription: async () => undefined,
    clock,
  };
  const event: DynamoDBStreamEvent = {
    Records: [
      {
        eventName: "INSERT",
        dynamodb: {
          SequenceNumber: "100",
          NewImage: marshall({
            pk: `INCIDENT#${incident.incidentId}`,
            sk: "INCIDENT",
            entity: "incident",
            ...incident,
            sources: new Set(incident.sources),
          }) as never,
        },
      },
    ],
  };
  return { rawKey, handler: makeNotifierHandler(deps), event, records, transitions };
}

beforeEach(() => {
  ses.reset();
  sns.reset();
});

describe("SES throttling", () => {
  it("fails the record so the stream retries it", async () => {
    const s = scenario();
    ses
      .on(SendEmailCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" }));
    sns.on(PublishCommand).resolves({ MessageId: "m" });

    const result = await s.handler(s.event);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "100" }]);
  });

  it("marks nothing sent and leaves the incident open", async () => {
    const s = scenario();
    ses
      .on(SendEmailCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" }));

    await s.handler(s.event);

    expect([...s.records.values()]).not.toContain("sent");
    expect(s.transitions).toEqual([]);
  });

  it("sends on the retry once SES accepts", async () => {
    const s = scenario();
    ses
      .on(SendEmailCommand)
      .rejectsOnce(Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" }))
      .resolves({ MessageId: "ok" });
    sns.on(PublishCommand).resolves({ MessageId: "m" });

    await s.handler(s.event);
    const retry = await s.handler(s.event);

    expect(retry.batchItemFailures).toEqual([]);
    expect(ses).toReceiveCommandTimes(SendEmailCommand, 2);
    expect(s.transitions.map((t) => t.to)).toEqual(["notified"]);
  });
});

describe("SNS 5xx", () => {
  it("fails the record and does not mark the alert sent", async () => {
    const s = scenario();
    ses.on(SendEmailCommand).resolves({ MessageId: "ok" });
    sns.on(PublishCommand).rejects(
      Object.assign(new Error("Internal"), {
        name: "InternalErrorException",
        $metadata: { httpStatusCode: 500 },
      }),
    );

    const result = await s.handler(s.event);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "100" }]);
    expect([...s.records.entries()].filter(([id]) => id.includes("security_alert"))).toEqual([]);
  });

  it("does not send the email twice when only the alert is retried", async () => {
    const s = scenario();
    ses.on(SendEmailCommand).resolves({ MessageId: "ok" });
    sns
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error("Internal"), { name: "InternalErrorException" }));
    sns.on(PublishCommand).resolves({ MessageId: "m" });

    await s.handler(s.event);
    await s.handler(s.event);

    expect(ses).toReceiveCommandTimes(SendEmailCommand, 1);
  });
});

describe("message content", () => {
  it("sends the email as raw MIME without the raw key", async () => {
    const s = scenario();
    ses.on(SendEmailCommand).resolves({ MessageId: "ok" });
    sns.on(PublishCommand).resolves({ MessageId: "m" });

    await s.handler(s.event);

    expect(ses).toReceiveCommandWith(SendEmailCommand, {
      Content: { Raw: { Data: expect.any(Uint8Array) } },
    });
    const raw = Buffer.from(ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Content?.Raw?.Data ?? [])
      .toString()
      .replace(/=\r\n/g, ""); // quoted-printable soft line breaks
    expect(raw).not.toContain(s.rawKey);
    expect(raw).toContain("https://github.com/octo/demo/blob/main/a.env");
  });

  it("publishes the security alert with filterable attributes and no raw key", async () => {
    const s = scenario();
    ses.on(SendEmailCommand).resolves({ MessageId: "ok" });
    sns.on(PublishCommand).resolves({ MessageId: "m" });

    await s.handler(s.event);

    expect(sns).toReceiveCommandWith(PublishCommand, {
      TopicArn: "arn:aws:sns:eu-west-1:123456789012:security",
      Message: expect.not.stringContaining(s.rawKey),
      MessageAttributes: {
        severity: { DataType: "String", StringValue: "high" },
        source: { DataType: "String.Array", StringValue: '["github_event"]' },
        kind: { DataType: "String", StringValue: "incident_opened" },
      },
    });
  });

  it("publishes the key event with the project id attribute", async () => {
    const s = scenario();
    ses.on(SendEmailCommand).resolves({ MessageId: "ok" });
    sns.on(PublishCommand).resolves({ MessageId: "m" });

    await s.handler(s.event);

    expect(sns).toReceiveCommandWith(PublishCommand, {
      TopicArn: "arn:aws:sns:eu-west-1:123456789012:key-events",
      Message: expect.not.stringContaining(s.rawKey),
      MessageAttributes: expect.objectContaining({
        projectId: { DataType: "String", StringValue: "proj-1" },
      }),
    });
  });
});

describe("a malformed stream record", () => {
  it("is reported as failed, not half-processed", async () => {
    const s = scenario();
    const bad: DynamoDBStreamEvent = {
      Records: [
        {
          dynamodb: {
            SequenceNumber: "7",
            NewImage: marshall({ entity: "incident", incidentId: 5 }) as never,
          },
        },
      ],
    };

    const result = await s.handler(bad);

    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "7" }]);
    expect(ses).toReceiveCommandTimes(SendEmailCommand, 0);
  });
});

describe("a crash between markSent and markNotified (issue 16 item 3)", () => {
  it("moves the still-open incident to notified on the replay, sending nothing again", async () => {
    const s = scenario();
    // What the crashed attempt left: every notification marked sent, the incident still open.
    for (const kind of ["owner_email", "security_alert", "key_event"]) {
      s.records.set(`NOTIFY#inc_0123456789abcdef0123#${kind}#1`, "sent");
    }

    const result = await s.handler(s.event);

    expect(result.batchItemFailures).toEqual([]);
    expect(ses).toReceiveCommandTimes(SendEmailCommand, 0);
    expect(sns).toReceiveCommandTimes(PublishCommand, 0);
    expect(s.transitions.map((t) => t.to)).toEqual(["notified"]);
  });
});
