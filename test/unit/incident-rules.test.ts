import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Incident, incidentIdFor, locationFingerprint } from "../../lambdas/domain/incident.js";
import { generateKey, keyHash, keyIdOf, redactKey } from "../../lambdas/domain/key-format.js";
import { composeLeakEmail } from "../../lambdas/domain/leak-email.js";
import { notificationId, planNotifications } from "../../lambdas/domain/notification-plan.js";

function incident(overrides: Partial<Incident> = {}): Incident {
  const hash = keyHash(generateKey());
  return {
    incidentId: incidentIdFor(hash),
    kind: "leaked_key",
    keyHash: hash,
    keyId: keyIdOf(hash),
    redacted: "smk_AbCd…wxyz",
    projectId: "p",
    state: "open",
    severity: "high",
    opening: 1,
    sources: ["github_event"],
    occurrenceCount: 1,
    openedAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    lastSeenAt: "2026-01-01T00:00:00.000Z",
    version: 1,
    ...overrides,
  };
}

describe("incidentIdFor", () => {
  it("gives every key one stable incident id", () => {
    const hash = keyHash(generateKey());
    expect(incidentIdFor(hash)).toBe(incidentIdFor(hash));
    expect(incidentIdFor(hash)).not.toBe(incidentIdFor(keyHash(generateKey())));
  });
});

describe("locationFingerprint", () => {
  it("ignores the line number and the URL fragment of the same file", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 10_000 }), (a, b) => {
        const at = (line: number) =>
          locationFingerprint(
            {
              repo: "o/r",
              commit: "abc",
              path: "x.env",
              line,
              url: `https://github.com/o/r/blob/abc/x.env#L${line}`,
            },
            "github_event",
          );
        expect(at(a)).toBe(at(b));
      }),
    );
  });

  it("tells different files apart", () => {
    const of = (path: string) => locationFingerprint({ repo: "o/r", commit: "abc", path }, "github_event");
    expect(of("a.env")).not.toBe(of("b.env"));
  });

  it("falls back to the report id when a report has no location", () => {
    expect(locationFingerprint({}, "user_report", "r1")).not.toBe(
      locationFingerprint({}, "user_report", "r2"),
    );
  });
});

describe("planNotifications", () => {
  it("plans email, security alert and key event when a leaked-key incident opens", () => {
    const plans = planNotifications({ entity: "incident", after: incident() });
    expect(plans.map((p) => p.kind)).toEqual(["owner_email", "security_alert", "key_event"]);
  });

  it("plans nothing for a counter update within the same opening", () => {
    const before = incident();
    const after = incident({ ...before, occurrenceCount: 2, version: 2 });
    expect(planNotifications({ entity: "incident", before, after })).toEqual([]);
  });

  it("plans again, under a new idempotency id, when a resolved incident reopens", () => {
    const first = incident();
    const before = incident({ ...first, state: "resolved" });
    const after = incident({ ...first, state: "open", opening: 2 });

    const [firstEmail] = planNotifications({ entity: "incident", after: first });
    const [reopenEmail] = planNotifications({ entity: "incident", before, after });

    expect(reopenEmail?.kind).toBe("owner_email");
    expect(reopenEmail && notificationId(reopenEmail)).not.toBe(firstEmail && notificationId(firstEmail));
  });

  it("plans nothing for an unknown key: unknown keys reach the team only as a digest", () => {
    const plans = planNotifications({ entity: "incident", after: incident({ kind: "unknown_key" }) });
    expect(plans).toEqual([]);
  });

  it("gives every report alert of one report the same idempotency id, whichever key it describes", () => {
    const occurrence = (incidentId: string, fingerprint: string) => ({
      incidentId,
      fingerprint,
      source: "user_report" as const,
      location: { kind: "report_form" },
      seenAt: "2026-01-01T00:00:00.000Z",
      recordedAt: "2026-01-01T00:00:00.000Z",
      opening: 1,
      reportId: "rep-1",
    });
    const [a] = planNotifications({ entity: "occurrence", after: occurrence("inc_a", "fa") });
    const [b] = planNotifications({ entity: "occurrence", after: occurrence("inc_b", "fb") });

    expect(a?.kind).toBe("report_received");
    expect(a && notificationId(a)).toBe(b && notificationId(b));
  });

  it("plans no report alert for an occurrence without a report id (unknown keys' report occurrences)", () => {
    const plans = planNotifications({
      entity: "occurrence",
      after: {
        incidentId: "inc_u",
        fingerprint: "fu",
        source: "user_report",
        location: { kind: "report_form" },
        seenAt: "2026-01-01T00:00:00.000Z",
        recordedAt: "2026-01-01T00:00:00.000Z",
        opening: 1,
      },
    });
    expect(plans).toEqual([]);
  });
});

describe("composeLeakEmail", () => {
  it("names the redacted key and never a raw one", () => {
    const rawKey = generateKey();
    const content = composeLeakEmail({
      incident: incident({ redacted: redactKey(rawKey), keyHash: keyHash(rawKey) }),
      occurrences: [],
    });
    for (const part of [content.subject, content.text, content.html]) {
      expect(part).toContain(redactKey(rawKey));
      expect(part).not.toContain(rawKey);
    }
  });

  it("escapes hostile location text in the HTML part", () => {
    const content = composeLeakEmail({
      incident: incident(),
      occurrences: [
        {
          incidentId: "i",
          fingerprint: "f",
          source: "github_event",
          location: { repo: "<script>alert(1)</script>", path: "x" },
          seenAt: "2026-01-01T00:00:00.000Z",
          recordedAt: "2026-01-01T00:00:00.000Z",
          opening: 1,
        },
      ],
    });
    expect(content.html).not.toContain("<script>");
  });
});
