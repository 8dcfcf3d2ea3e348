import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { CLAIM_LEASE_MS, createNotificationLedger } from "../../lambdas/adapters/notification-ledger.js";
import type { NotificationLedger } from "../../lambdas/domain/notify-incident.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";

let db: TestTables;
let ledger: NotificationLedger;
const t0 = new Date("2026-11-26T10:00:00.000Z");
const at = (ms: number) => new Date(t0.getTime() + ms).toISOString();
let n = 0;
const nextId = () => `NOTIFY#inc_test${n++}#owner_email#1`;

beforeAll(async () => {
  db = await createTestTables();
  ledger = createNotificationLedger(db.client, db.names.notifications);
});

describe("claiming a notification", () => {
  it("is granted once: a second claim within the lease is in flight", async () => {
    const id = nextId();
    expect(await ledger.claim(id, at(0))).toBe("claimed");
    expect(await ledger.claim(id, at(CLAIM_LEASE_MS - 1))).toBe("in_flight");
  });

  it("answers sent once the first attempt marked it", async () => {
    const id = nextId();
    await ledger.claim(id, at(0));
    await ledger.markSent(id, at(10));
    expect(await ledger.claim(id, at(CLAIM_LEASE_MS * 10))).toBe("sent");
  });

  it("is taken over once the lease of a crashed attempt ran out, by one taker only", async () => {
    const id = nextId();
    await ledger.claim(id, at(0));
    const late = at(CLAIM_LEASE_MS + 1);

    const takers = await Promise.all([ledger.claim(id, late), ledger.claim(id, late)]);

    expect(takers.sort()).toEqual(["in_flight", "taken_over"]);
    const item = await db.client.send(
      new GetCommand({ TableName: db.names.notifications, Key: { pk: id }, ConsistentRead: true }),
    );
    expect(item.Item).toMatchObject({ status: "sending", claimedAt: late, takenOver: 1 });
  });

  it("can be claimed again after a failed send released it", async () => {
    const id = nextId();
    await ledger.claim(id, at(0));
    await ledger.release(id);
    expect(await ledger.claim(id, at(1))).toBe("claimed");
  });
});

describe("claims stuck in sending (the reconciler's sweep)", () => {
  it("lists only claims still sending and claimed at or before the cutoff", async () => {
    const db2 = await createTestTables();
    const own = createNotificationLedger(db2.client, db2.names.notifications);
    await own.claim("NOTIFY#inc_old#owner_email#1", at(0));
    await own.claim("NOTIFY#inc_new#owner_email#1", at(CLAIM_LEASE_MS * 2));
    await own.claim("NOTIFY#inc_done#owner_email#1", at(0));
    await own.markSent("NOTIFY#inc_done#owner_email#1", at(5));

    const stuck = await own.stuckClaims(at(CLAIM_LEASE_MS));

    expect(stuck).toEqual([{ id: "NOTIFY#inc_old#owner_email#1", claimedAt: at(0) }]);
  });

  it("are taken over at once by a ledger with lease 0 (the local runner at start-up, holding the data lock)", async () => {
    const id = nextId();
    await ledger.claim(id, at(0));
    const startUp = createNotificationLedger(db.client, db.names.notifications, { leaseMs: 0 });
    expect(await startUp.claim(id, at(1))).toBe("taken_over");
  });
});
