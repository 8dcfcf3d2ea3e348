import { describe, expect, it } from "vitest";
import { crashHookFrom } from "../../bin/local/crash-points.js";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import type { Incident } from "../../lambdas/domain/incident.js";
import { notificationId, type PlannedNotification } from "../../lambdas/domain/notification-plan.js";
import { NotificationInFlightError, type NotifyResult } from "../../lambdas/domain/notify-incident.js";
import {
  parseNotificationId,
  type ReconcileDeps,
  reconcileNotifications,
} from "../../lambdas/domain/reconcile-notifications.js";

const clock = fixedClock("2026-03-01T10:00:00.000Z");
const settings = { claimLeaseMs: 90_000, openGraceMs: 300_000 };

function incident(id: string, state: Incident["state"] = "open"): Incident {
  return {
    incidentId: id,
    kind: "leaked_key",
    keyHash: "a".repeat(64),
    keyId: "a".repeat(16),
    redacted: "smk_AbCd…wxyz",
    state,
    severity: "high",
    opening: 1,
    sources: ["github_partner"],
    occurrenceCount: 1,
    openedAt: "2026-03-01T09:00:00.000Z",
    updatedAt: "2026-03-01T09:00:00.000Z",
    lastSeenAt: "2026-03-01T09:00:00.000Z",
    version: 1,
  };
}

/** Fake storage: notify() "sends" by recording the plan and moves the incident on an owner email. */
function deps(options: {
  claims?: { id: string; claimedAt: string }[];
  open?: Incident[];
  notify?: (planned: PlannedNotification) => Promise<NotifyResult>;
}) {
  const incidents = new Map((options.open ?? []).map((i) => [i.incidentId, i]));
  const sent: string[] = [];
  const asked: string[] = [];
  const d: ReconcileDeps = {
    async stuckClaims(before) {
      asked.push(`claims<=${before}`);
      return options.claims ?? [];
    },
    async staleOpenIncidents(before) {
      asked.push(`open<${before}`);
      return [...incidents.values()].filter((i) => i.state === "open").map((i) => i.incidentId);
    },
    incidents: { get: async (id) => incidents.get(id) },
    notify:
      options.notify ??
      (async (planned) => {
        sent.push(notificationId(planned));
        const current = incidents.get(planned.incidentId);
        if (current && planned.kind === "owner_email")
          incidents.set(current.incidentId, { ...current, state: "notified" });
        return "sent";
      }),
    clock,
  };
  return { d, sent, asked };
}

describe("parseNotificationId", () => {
  it("reads back what notificationId wrote, for every kind", () => {
    const plans: PlannedNotification[] = [
      { kind: "owner_email", incidentId: "inc_1", opening: 2 },
      { kind: "security_alert", incidentId: "inc_1", opening: 1 },
      { kind: "key_event", incidentId: "inc_1", opening: 1 },
      { kind: "report_received", incidentId: "inc_1", opening: 3, discriminator: "f".repeat(32) },
    ];
    expect(plans.map((p) => parseNotificationId(notificationId(p)))).toEqual(plans);
  });

  it("refuses anything else", () => {
    for (const id of [
      "NOTIFY#inc_1#owner_email#0",
      "X#inc_1#owner_email#1",
      "NOTIFY#inc_1#nope#1",
      "NOTIFY#inc_1#report_received#1",
    ]) {
      expect(parseNotificationId(id)).toBeUndefined();
    }
  });
});

describe("reconcileNotifications", () => {
  it("asks for claims older than the lease and incidents open longer than the grace period", async () => {
    const { d, asked } = deps({});
    await reconcileNotifications(d, settings);
    expect(asked).toEqual(["claims<=2026-03-01T09:58:30.000Z", "open<2026-03-01T09:55:00.000Z"]);
  });

  it("resumes a claim stuck in sending (crash between claim and send) through notify", async () => {
    const id = "NOTIFY#inc_1#security_alert#1";
    const { d, sent } = deps({ claims: [{ id, claimedAt: "2026-03-01T09:50:00.000Z" }] });
    const report = await reconcileNotifications(d, settings);
    expect([sent, report.stuckClaims, report.resumed]).toEqual([[id], 1, 1]);
  });

  it("runs an open incident's whole opening plan and reports nothing stranded once it is notified", async () => {
    const { d, sent } = deps({ open: [incident("inc_2")] });
    const report = await reconcileNotifications(d, settings);
    expect(sent).toEqual([
      "NOTIFY#inc_2#owner_email#1",
      "NOTIFY#inc_2#security_alert#1",
      "NOTIFY#inc_2#key_event#1",
    ]);
    expect(report.stranded).toEqual([]);
  });

  it("reports an incident that stays open as stranded, and an in-flight claim as in flight, not failed", async () => {
    const { d } = deps({
      open: [incident("inc_3")],
      notify: async (planned) => {
        if (planned.kind === "owner_email") throw new NotificationInFlightError(notificationId(planned));
        return "already_sent";
      },
    });
    const report = await reconcileNotifications(d, settings);
    expect([report.stranded, report.inFlight, report.failed, report.alreadySent]).toEqual([
      ["inc_3"],
      1,
      0,
      2,
    ]);
  });
});

describe("crash points (test-only fault injection)", () => {
  it("never fire when KEYWATCH_CRASH_AT is unset", () => {
    let kills = 0;
    const hook = crashHookFrom(undefined, () => kills++);
    hook("after-ack");
    hook("after-send");
    expect(kills).toBe(0);
  });

  it("fire once, the n-th time the named point is reached", () => {
    let kills = 0;
    const hook = crashHookFrom("after-send:3", () => kills++);
    const counts = [1, 2, 3, 4].map(() => {
      hook("after-send");
      hook("after-claim");
      return kills;
    });
    expect(counts).toEqual([0, 0, 1, 1]);
  });

  it("refuse an unknown point name", () => {
    expect(() => crashHookFrom("after-lunch")).toThrow(/unknown point "after-lunch"/);
  });
});
