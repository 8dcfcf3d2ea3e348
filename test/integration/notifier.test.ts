import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type StreamPump, startStreamPump } from "../../bin/local/stream-pump.js";
import { type AlertPublisher, createOutboxAlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createOutboxEmailSender, type EmailSender } from "../../lambdas/adapters/email-sender.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import { createPersonalDataStore } from "../../lambdas/adapters/personal-data-store.js";
import type { Finding, RecordFindings } from "../../lambdas/domain/finding.js";
import { issueKey } from "../../lambdas/domain/issue-key.js";
import { generateKey, keyHash, redactKey } from "../../lambdas/domain/key-format.js";
import { erasePersonalData } from "../../lambdas/domain/privacy.js";
import { transitionIncident } from "../../lambdas/domain/transition-incident.js";
import { makeNotifierHandler, notifierDeps } from "../../lambdas/handlers/notifier.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";

interface Harness {
  db: TestTables;
  record: RecordFindings;
  outbox: string;
  emails: string[];
  alerts: () => Array<{
    topic: string;
    message: Record<string, unknown>;
    attributes: Record<string, unknown>;
  }>;
  pump: StreamPump;
  batches: DynamoDBStreamEvent[];
  handler: ReturnType<typeof makeNotifierHandler>;
}

let h: Harness;
const clock = fixedClock("2026-03-01T10:00:00.000Z");

beforeEach(async () => {
  const db = await createTestTables();
  const outbox = mkdtempSync(join(tmpdir(), "keywatch-outbox-"));
  const emailOutbox = createOutboxEmailSender(outbox, () => clock.now());
  const emails: string[] = [];
  let n = 0;
  // Distinct file names even with a fixed clock, so a second email can't overwrite the first.
  const email: EmailSender = {
    async send(message) {
      emails.push(Buffer.from(message.raw).toString("utf8"));
      await emailOutbox.send({ ...message, incidentId: `${message.incidentId}-${n++}` });
    },
  };
  const alertsOutbox: AlertPublisher = createOutboxAlertPublisher(outbox);
  const handler = makeNotifierHandler(
    notifierDeps({
      client: db.client,
      tables: db.names,
      email,
      alerts: alertsOutbox,
      sender: "security@example.com",
      clock,
    }),
  );
  const batches: DynamoDBStreamEvent[] = [];
  const pump = await startStreamPump({
    endpoint: db.endpoint,
    tableName: db.names.incidents,
    pollMs: 100,
    handler: async (event) => {
      batches.push(event);
      return handler(event);
    },
  });
  const alerts = () => {
    try {
      return readFileSync(join(outbox, "alerts.jsonl"), "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    } catch {
      return [];
    }
  };
  h = {
    db,
    record: createFindingRecorder({ client: db.client, tables: db.names, clock }),
    outbox,
    emails,
    alerts,
    pump,
    batches,
    handler,
  };
});

afterEach(async () => {
  await h.pump.stop();
});

function findingFor(rawKey: string, path: string, extra: Partial<Finding> = {}): Finding {
  return {
    keyHash: keyHash(rawKey),
    redacted: redactKey(rawKey),
    source: "github_event",
    location: {
      repo: "octo/demo",
      commit: "abc123",
      path,
      url: `https://github.com/octo/demo/blob/abc123/${path}`,
    },
    seenAt: clock.now().toISOString(),
    ...extra,
  };
}

const issue = () =>
  issueKey("proj-7", "owner@example.com", { keys: createKeyRepository(h.db.client, h.db.names.keys), clock });

describe("a leaked registered key, through the real incidents stream", () => {
  it("sends one email, one security alert and one key event, and marks the incident notified", async () => {
    const { rawKey } = await issue();
    const [outcome] = await h.record([findingFor(rawKey, "a.env")]);
    await h.pump.drained();

    expect(h.emails).toHaveLength(1);
    expect(
      h
        .alerts()
        .map((a) => `${a.topic}:${a.message.kind}`)
        .sort(),
    ).toEqual(["key-events:key_compromised", "security:incident_opened"]);
    const incident = await createIncidentRepository(h.db.client, h.db.names.incidents).get(
      outcome?.incidentId ?? "",
    );
    expect(incident?.state).toBe("notified");
  });

  it("writes the .eml to the outbox without the raw key, with the redacted key and rotation steps", async () => {
    const { rawKey } = await issue();
    await h.record([findingFor(rawKey, "a.env")]);
    await h.pump.drained();

    const files = readdirSync(join(h.outbox, "emails"));
    expect(files).toHaveLength(1);
    const eml = readFileSync(join(h.outbox, "emails", files[0] as string), "utf8");
    expect(eml).not.toContain(rawKey);
    expect(eml).toContain("How to rotate it");
    expect(eml).toContain("To: owner@example.com");
  });
});

describe("20 concurrent findings for one key", () => {
  it("produce one notification record per kind and a single email", async () => {
    const { rawKey } = await issue();
    await Promise.all(Array.from({ length: 20 }, (_, i) => h.record([findingFor(rawKey, `f${i % 5}.env`)])));
    await h.pump.drained();

    const records = await h.db.client.send(new ScanCommand({ TableName: h.db.names.notifications }));
    const ownerEmails = (records.Items ?? []).filter((i) => String(i.pk).includes("#owner_email#"));
    expect(ownerEmails).toHaveLength(1);
    expect(ownerEmails[0]?.status).toBe("sent");
    expect(h.emails).toHaveLength(1);
  });
});

describe("a replayed stream batch", () => {
  it("sends no second email", async () => {
    const { rawKey } = await issue();
    await h.record([findingFor(rawKey, "a.env")]);
    await h.pump.drained();
    const delivered = h.batches.flatMap((b) => b.Records);

    await h.handler({ Records: delivered });

    expect(h.emails).toHaveLength(1);
  });
});

describe("a resolved incident seen at a new location", () => {
  it("is reopened and emails the owner again", async () => {
    const { rawKey } = await issue();
    const [outcome] = await h.record([findingFor(rawKey, "a.env")]);
    await h.pump.drained();
    clock.advance(60_000);
    await transitionIncident(outcome?.incidentId ?? "", "resolve", "user:alice", {
      incidents: createIncidentRepository(h.db.client, h.db.names.incidents),
      clock,
    });
    clock.advance(60_000);

    await h.record([findingFor(rawKey, "b.env")]);
    await h.pump.drained();

    expect(h.emails).toHaveLength(2);
    expect(h.emails[1]).toMatch(/Message-ID: <inc_[0-9a-f]+\.2@keywatch>/);
    expect(h.alerts().filter((a) => a.message.kind === "incident_reopened")).toHaveLength(1);
  });
});

describe("an unknown key", () => {
  it("sends no email and no alert of its own: unknown keys reach the team as a digest (issue 13)", async () => {
    await h.record([findingFor(generateKey(), "x.env")]);
    await h.pump.drained();

    expect(h.emails).toHaveLength(0);
    expect(h.alerts()).toEqual([]);
  });
});

describe("a finding from a user report", () => {
  it("alerts report_received with the report's stored description", async () => {
    const { rawKey } = await issue();
    const { PutCommand } = await import("@aws-sdk/lib-dynamodb");
    await h.db.client.send(
      new PutCommand({
        TableName: h.db.names.reports,
        Item: { pk: "REPORT#rep-9", description: "pasted in a gist" },
      }),
    );
    await h.record([findingFor(rawKey, "gist.txt", { source: "user_report", reportId: "rep-9" })]);
    await h.pump.drained();

    const report = h.alerts().find((a) => a.message.kind === "report_received");
    expect(report?.message).toMatchObject({ reportId: "rep-9", description: "pasted in a gist" });
  });
});

describe("a finding with no location at all", () => {
  it("is notified without any failed record (an empty location map survives the stream)", async () => {
    const { rawKey } = await issue();
    await h.record([{ ...findingFor(rawKey, "x"), location: {}, source: "user_report", reportId: "r-1" }]);
    await h.pump.drained();

    const delivered = h.batches.flatMap((b) => b.Records);
    const replay = await h.handler({ Records: delivered });
    expect(replay.batchItemFailures).toEqual([]);
    expect(h.emails).toHaveLength(1);
  });
});

describe("a key whose owner's contact was erased", () => {
  it("sends no email but still alerts the security team, with no failed record", async () => {
    const { rawKey } = await issue();
    await erasePersonalData("owner@example.com", {
      store: createPersonalDataStore({ client: h.db.client, tables: h.db.names }),
      now: () => clock.now(),
      actor: "user:dpo",
      newId: () => "erasure-1",
    });

    await h.record([findingFor(rawKey, "a.env")]);
    await h.pump.drained();

    expect(h.emails).toHaveLength(0);
    expect(h.alerts().filter((a) => a.message.kind === "incident_opened")).toHaveLength(1);
    const replay = await h.handler({ Records: h.batches.flatMap((b) => b.Records) });
    expect(replay.batchItemFailures).toEqual([]);
  });
});
