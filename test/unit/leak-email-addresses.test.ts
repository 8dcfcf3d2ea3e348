import { describe, expect, it } from "vitest";
import type { Occurrence } from "../../lambdas/domain/incident.js";
import { generateKey, keyHash, keyIdOf } from "../../lambdas/domain/key-format.js";
import { composeLeakEmail, MAX_SHOWN_ADDRESS_CHARS, shownAddress } from "../../lambdas/domain/leak-email.js";

const PHISHING =
  "https://smelter-security.example/restore?case=4411 ACTION REQUIRED: sign in at https://evil.example to keep your account#now";

function reportOccurrence(url: string): Occurrence {
  return {
    incidentId: "inc_x",
    fingerprint: "f",
    source: "user_report",
    location: { kind: "report_form", url },
    seenAt: "2026-01-01T00:00:00.000Z",
    recordedAt: "2026-01-01T00:00:00.000Z",
    opening: 1,
    reportId: "rep-1",
  };
}

function emailFor(occurrence: Occurrence) {
  const hash = keyHash(generateKey());
  return composeLeakEmail({
    incident: {
      incidentId: "inc_x",
      kind: "leaked_key",
      keyHash: hash,
      keyId: keyIdOf(hash),
      redacted: "smk_AbCd…wxyz",
      projectId: "p",
      state: "open",
      severity: "high",
      opening: 1,
      sources: [occurrence.source],
      occurrenceCount: 1,
      openedAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
      lastSeenAt: "2026-01-01T00:00:00.000Z",
      version: 1,
    },
    occurrences: [occurrence],
  });
}

describe("a reported URL in the owner's email", () => {
  it("shows only the https host and path of a phishing URL, as text, never its query or free text", () => {
    const email = emailFor(reportOccurrence(PHISHING));
    for (const part of [email.text, email.html]) {
      expect(part).toContain("smelter-security.example/restore");
      expect(part).not.toContain("ACTION REQUIRED");
      expect(part).not.toContain("case=4411");
      expect(part).not.toContain("evil.example");
    }
    expect(email.html).not.toContain("<a ");
  });

  it("never links a reporter's address, even a plain one", () => {
    const email = emailFor(reportOccurrence("https://gist.github.com/someone/abc"));
    expect(email.text).toContain("gist.github.com/someone/abc");
    expect(email.html).not.toContain("href=");
  });

  it("shows a look-alike Unicode host in punycode", () => {
    expect(shownAddress("https://smеlter.example/login", "user_report")?.text).toMatch(
      /^xn--smlter-[a-z0-9]+\.example\/login$/,
    );
  });

  it("shows nothing for a non-https address", () => {
    expect(shownAddress("http://smelter.example/x", "github_event")).toBeUndefined();
    expect(shownAddress("javascript:alert(1)", "github_event")).toBeUndefined();
  });

  it("cuts a long path and then does not link it", () => {
    const shown = shownAddress(`https://github.com/${"a".repeat(500)}`, "github_partner");
    expect(shown?.text.length).toBe(MAX_SHOWN_ADDRESS_CHARS);
    expect(shown?.href).toBeUndefined();
  });

  it("links a plain GitHub URL from a GitHub channel", () => {
    const url = "https://github.com/octo/repo/blob/0123abc/config.env";
    expect(shownAddress(url, "github_partner")).toEqual({ text: url.slice("https://".length), href: url });
  });

  it("strips bidi and zero-width characters from repo and path labels", () => {
    const email = emailFor({
      ...reportOccurrence("https://github.com/x"),
      source: "github_event",
      location: { repo: "octo/\u202Egnp.exe\u202C", path: "a\u200Bb.env" },
    });
    expect(email.text).not.toMatch(/[\u202A-\u202E\u200B]/);
    expect(email.text).toContain("octo/gnp.exe ab.env");
  });
});
