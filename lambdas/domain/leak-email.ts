import type { FindingSource } from "./finding.js";
import type { Incident, Occurrence } from "./incident.js";
import { stripInvisible } from "./text-normalisation.js";

export interface LeakEmailContent {
  subject: string;
  text: string;
  html: string;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/** Longest host + path shown to an owner; longer ones are cut (and then never a link). */
export const MAX_SHOWN_ADDRESS_CHARS = 120;
/** Longest repo / path label shown; they come from public GitHub and are anyone's to name. */
const MAX_LABEL_CHARS = 160;

/** An address as an owner may see it: https host (punycode) and path only; a link only when nothing was cut. */
export interface ShownAddress {
  text: string;
  href?: string;
}

/**
 * Nothing a reporter (or a repository's author) writes reaches an owner verbatim: of a URL only
 * an `https` host and path are shown, never the query, fragment, credentials or port; the host in
 * punycode (so a look-alike Unicode host shows as `xn--…`); the path percent-encoded by the URL
 * parser (no spaces or controls); cut to MAX_SHOWN_ADDRESS_CHARS. It is a link only when it came
 * from a GitHub channel and nothing had to be removed; a user report's address is always plain
 * text, because whoever reports a key chooses it.
 */
export function shownAddress(raw: string, source: FindingSource): ShownAddress | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" || url.hostname === "") return undefined;
  const full = `${url.host}${url.pathname}`;
  const cut = full.length > MAX_SHOWN_ADDRESS_CHARS;
  const text = cut ? `${full.slice(0, MAX_SHOWN_ADDRESS_CHARS - 1)}…` : full;
  const plain =
    !cut &&
    url.search === "" &&
    url.hash === "" &&
    url.username === "" &&
    url.password === "" &&
    url.port === "" &&
    raw.trim() === `https://${full}`;
  const linkable = plain && source !== "user_report";
  return { text, ...(linkable ? { href: `https://${full}` } : {}) };
}

/** A repo or path label: invisible and control characters removed, whitespace collapsed, length-bounded. */
function shownLabel(value: string): string {
  const clean = stripInvisible(value).replace(/\s+/g, " ").trim();
  return clean.length > MAX_LABEL_CHARS ? `${clean.slice(0, MAX_LABEL_CHARS - 1)}…` : clean;
}

/** A human description of where the key was seen; an address only in its shown form (shownAddress). */
export function describeLocation(occurrence: Occurrence): { label: string; url?: string } {
  const { location } = occurrence;
  const parts = [
    location.repo && shownLabel(location.repo),
    location.path && `${shownLabel(location.path)}${location.line ? `:${location.line}` : ""}`,
  ]
    .filter(Boolean)
    .join(" ");
  const address = location.url ? shownAddress(location.url, occurrence.source) : undefined;
  const label =
    parts ||
    address?.text ||
    (occurrence.reportId ? "a report sent to our security team" : occurrence.source.replace(/_/g, " "));
  return {
    label: `${label} (${occurrence.source.replace(/_/g, " ")}, seen ${occurrence.seenAt})`,
    ...(address?.href ? { url: address.href } : {}),
  };
}

/**
 * The owner's email for an incident opening: which key (redacted only), where it was seen,
 * that it is quarantined, and exactly how to rotate it. Pure: the MIME message is built by an adapter.
 */
export function composeLeakEmail(input: {
  incident: Incident;
  occurrences: Occurrence[];
  rotateCommand?: string;
}): LeakEmailContent {
  const { incident } = input;
  const reopened = incident.opening > 1;
  const places = input.occurrences.map(describeLocation);
  const project = incident.projectId ?? "your project";
  const subject = `[Smelter] ${reopened ? "Again: your" : "Your"} API key ${incident.redacted} was exposed and has been disabled`;
  const issue = input.rotateCommand ?? `keywatch keys issue --project ${project} --email <you>`;
  const steps = [
    `Create a replacement key for project ${project}: ${issue}`,
    "Put the new key in your secret store / deployment configuration and redeploy every service that used the old one.",
    "Check that your traffic now authenticates with the new key (requests with the old key are refused).",
    `Remove the exposed key from every place listed above (delete the file or comment, rewrite history if it was committed), and treat it as burned even after removal.`,
    `Confirm the old key is revoked: keywatch keys revoke ${incident.keyId}`,
  ];
  const intro = reopened
    ? `Your Smelter API key ${incident.redacted} (project ${project}) was found at a new public location after the incident had been resolved.`
    : `Your Smelter API key ${incident.redacted} (project ${project}) was found in a public place.`;
  const quarantine =
    "We have quarantined it: the Smelter API now refuses every request made with this key. Nothing else in your project has changed.";
  const text = [
    "Hello,",
    "",
    intro,
    "",
    "Where it was seen:",
    ...places.map((p) => `  - ${p.label}${p.url ? `\n    ${p.url}` : ""}`),
    "",
    quarantine,
    "",
    "How to rotate it:",
    ...steps.map((s, i) => `  ${i + 1}. ${s}`),
    "",
    `Incident: ${incident.incidentId}. Reply to this email if you believe this is a mistake.`,
    "",
    "Smelter security",
    "",
  ].join("\n");
  const html = [
    "<!doctype html><html><body>",
    "<p>Hello,</p>",
    `<p>${escapeHtml(intro)}</p>`,
    "<p><strong>Where it was seen:</strong></p><ul>",
    ...places.map(
      (p) =>
        `<li>${escapeHtml(p.label)}${p.url ? ` &mdash; <a href="${escapeHtml(p.url)}">${escapeHtml(p.url)}</a>` : ""}</li>`,
    ),
    "</ul>",
    `<p>${escapeHtml(quarantine)}</p>`,
    "<p><strong>How to rotate it:</strong></p><ol>",
    ...steps.map((s) => `<li>${escapeHtml(s)}</li>`),
    "</ol>",
    `<p>Incident: <code>${escapeHtml(incident.incidentId)}</code>. Reply to this email if you believe this is a mistake.</p>`,
    "<p>Smelter security</p>",
    "</body></html>",
  ].join("\n");
  return { subject, text, html };
}
