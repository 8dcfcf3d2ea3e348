import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetCommand, PutCommand, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createPersonalDataStore, ERASURE_PK } from "../../lambdas/adapters/personal-data-store.js";
import { generateKey, keyHash, keyIdOf, redactKey } from "../../lambdas/domain/key-format.js";
import {
  erasePersonalData,
  exportPersonalData,
  PrivacyRequestError,
  subjectHashOf,
} from "../../lambdas/domain/privacy.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";

const outbox = mkdtempSync(join(tmpdir(), "keywatch-privacy-"));
afterAll(() => rmSync(outbox, { recursive: true, force: true }));

interface Seeded {
  t: TestTables;
  emails: string;
  person: string;
  other: string;
  rawKeys: string[];
  hashes: string[];
}

async function seed(): Promise<Seeded> {
  const t = await createTestTables();
  const emails = join(outbox, randomUUID());
  mkdirSync(emails);
  const person = `${randomUUID().slice(0, 8)}@example.com`;
  const other = `${randomUUID().slice(0, 8)}@example.org`;
  const rawKeys = [generateKey(), generateKey(), generateKey()];
  const hashes = rawKeys.map(keyHash);
  const owners = [person, person, other];
  for (const [i, raw] of rawKeys.entries()) {
    await t.client.send(
      new PutCommand({
        TableName: t.names.keys,
        Item: {
          keyHash: hashes[i],
          keyId: keyIdOf(hashes[i] as string),
          projectId: `proj-${i}`,
          ownerEmail: owners[i],
          status: i === 0 ? "compromised" : "active",
          redacted: redactKey(raw),
          createdAt: `2026-01-0${i + 1}T00:00:00.000Z`,
          updatedAt: `2026-01-0${i + 1}T00:00:00.000Z`,
          expiresAt: 2_000_000_000,
        },
      }),
    );
  }
  await t.client.send(
    new PutCommand({
      TableName: t.names.reports,
      Item: {
        pk: "REPORT#r1",
        reporterEmail: person,
        receivedAt: "2026-02-01T00:00:00.000Z",
        description: "found it",
        expiresAt: 2_000_000_000,
      },
    }),
  );
  await t.client.send(
    new PutCommand({
      TableName: t.names.reports,
      Item: { pk: "REPORT#r2", reporterEmail: other, receivedAt: "2026-02-02T00:00:00.000Z", expiresAt: 1 },
    }),
  );
  await t.client.send(
    new PutCommand({
      TableName: t.names.incidents,
      Item: {
        pk: "INCIDENT#i1",
        sk: "AUDIT#1",
        keyHash: hashes[0],
        note: `owner ${person.toUpperCase()} called`,
        expiresAt: 2_000_000_000,
      },
    }),
  );
  writeFileSync(
    join(emails, "a.eml"),
    `To: ${person}\r\nSubject: Your key leaked\r\nDate: Mon, 02 Feb 2026 00:00:00 GMT\r\n\r\nbody`,
  );
  writeFileSync(join(emails, "b.eml"), `To: ${other}\r\nSubject: Other\r\n\r\nbody`);
  return { t, emails, person, other, rawKeys, hashes };
}

function storeFor(s: Seeded) {
  return createPersonalDataStore({ client: s.t.client, tables: s.t.names, outboxEmails: s.emails });
}
const now = () => new Date("2026-03-01T00:00:00.000Z");

describe("privacy export", () => {
  let s: Seeded;
  beforeEach(async () => {
    s = await seed();
  });

  it("lists the keys the person owns by hash and redacted form", async () => {
    const data = await exportPersonalData(s.person, { store: storeFor(s), now });
    expect(data.keys.map((k) => k.keyHash).sort()).toEqual([s.hashes[0], s.hashes[1]].sort());
  });

  it("never contains a raw key", async () => {
    const text = JSON.stringify(await exportPersonalData(s.person, { store: storeFor(s), now }));
    for (const raw of s.rawKeys) expect(text).not.toContain(raw);
  });

  it("lists reports sent, notifications addressed, and other mentions", async () => {
    const data = await exportPersonalData(s.person.toUpperCase(), { store: storeFor(s), now });
    expect({
      reports: data.reports.map((r) => r.reportId),
      notifications: data.notifications.map((n) => [n.id, n.subject]),
      mentions: data.otherMentions.map((m) => [m.table, m.attributes]),
    }).toEqual({
      reports: ["REPORT#r1"],
      notifications: [["a.eml", "Your key leaked"]],
      mentions: [["incidents", ["note"]]],
    });
  });

  it("rejects something that is not an email address", async () => {
    await expect(exportPersonalData("not-an-email", { store: storeFor(s), now })).rejects.toThrow(
      PrivacyRequestError,
    );
  });
});

describe("privacy delete", () => {
  let s: Seeded;
  beforeEach(async () => {
    s = await seed();
    await erasePersonalData(s.person, { store: storeFor(s), now, actor: "test", newId: () => "e1" });
  });

  it("leaves the address nowhere in any table", async () => {
    for (const table of Object.values(s.t.names)) {
      const { Items } = await s.t.client.send(new ScanCommand({ TableName: table }));
      expect(JSON.stringify(Items ?? []).toLowerCase()).not.toContain(s.person);
    }
  });

  it("keeps the key hashes and their statuses (needed for security)", async () => {
    const { Item } = await s.t.client.send(
      new GetCommand({ TableName: s.t.names.keys, Key: { keyHash: s.hashes[0] } }),
    );
    expect({ status: Item?.status, owner: Item?.ownerEmail, erased: Item?.ownerErasedAt }).toEqual({
      status: "compromised",
      owner: undefined,
      erased: "2026-03-01T00:00:00.000Z",
    });
  });

  it("removes the person from the byOwner index", async () => {
    const { Items } = await s.t.client.send(
      new QueryCommand({
        TableName: s.t.names.keys,
        IndexName: "byOwner",
        KeyConditionExpression: "ownerEmail = :e",
        ExpressionAttributeValues: { ":e": s.person },
      }),
    );
    expect(Items).toEqual([]);
  });

  it("deletes their reports and their emails but not other people's", async () => {
    const { Items } = await s.t.client.send(new ScanCommand({ TableName: s.t.names.reports }));
    expect({ reports: Items?.map((i) => i.pk), emails: readdirSync(s.emails) }).toEqual({
      reports: ["REPORT#r2"],
      emails: ["b.eml"],
    });
  });

  it("keeps other owners' keys untouched", async () => {
    const { Item } = await s.t.client.send(
      new GetCommand({ TableName: s.t.names.keys, Key: { keyHash: s.hashes[2] } }),
    );
    expect(Item?.ownerEmail).toBe(s.other);
  });

  it("redacts the address inside other items and keeps the rest", async () => {
    const { Item } = await s.t.client.send(
      new GetCommand({ TableName: s.t.names.incidents, Key: { pk: "INCIDENT#i1", sk: "AUDIT#1" } }),
    );
    expect({ note: Item?.note, keyHash: Item?.keyHash }).toEqual({
      note: "owner [erased] called",
      keyHash: s.hashes[0],
    });
  });

  it("records the erasure with a hash of the address, not the address", async () => {
    const { Items } = await s.t.client.send(
      new QueryCommand({
        TableName: s.t.names.state,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": ERASURE_PK },
      }),
    );
    expect(
      Items?.map((i) => [i.subjectHash, i.keysDetached, i.reportsDeleted, i.notificationsDeleted, i.actor]),
    ).toEqual([[subjectHashOf(s.person), 2, 1, 1, "test"]]);
  });

  it("gives the erasure record a TTL", async () => {
    const { Items } = await s.t.client.send(
      new QueryCommand({
        TableName: s.t.names.state,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": ERASURE_PK },
      }),
    );
    expect(Items?.[0]?.expiresAt).toBeGreaterThan(Date.parse("2028-01-01") / 1000);
  });
});
