import { REPORT_DESCRIPTION_MAX_CHARS, REPORT_RETENTION_DAYS } from "../domain/report.js";

/**
 * The report form's HTML, CSS and script. Every value that reaches HTML goes through `escapeHtml`;
 * the page works without JavaScript, and the script (served from /report.js, never inline) only
 * submits as JSON and shows the answer in place.
 */

/** Headers on every response of the form and its API: no inline script, no framing, no referrer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
  "strict-transport-security": "max-age=31536000; includeSubDomains",
};

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

export type ReportField = "text" | "url" | "description" | "email";

export interface ReportFormState {
  /** What the reporter typed, shown back after an error so nothing has to be retyped. */
  values?: Partial<Record<ReportField, string>>;
  errors?: Partial<Record<ReportField, string>>;
  /** A message about the whole form (rate limit, server trouble). */
  notice?: string;
  /** The "misused, no key" form's values and errors, when that is the form being answered. */
  misuse?: {
    values?: Partial<Record<"keyRef" | "description" | "email", string>>;
    errors?: Partial<Record<"keyRef" | "description" | "email", string>>;
  };
}

function misuseSection(state: ReportFormState): string {
  const m = state.misuse;
  const value = (name: "keyRef" | "description" | "email") => escapeHtml(m?.values?.[name] ?? "");
  const errors = Object.entries(m?.errors ?? {}).filter(([, message]) => message) as [string, string][];
  const ids: Record<string, string> = { keyRef: "keyRef", description: "m-description", email: "m-email" };
  const summary =
    m && (errors.length > 0 || state.notice)
      ? `<div class="summary" role="alert" id="misuse-summary" tabindex="-1" autofocus>
<h3>${errors.length > 0 ? "Please check this form" : "Not sent"}</h3>
${state.notice ? `<p>${escapeHtml(state.notice)}</p>` : ""}
${errors.length ? `<ul>${errors.map(([name, message]) => `<li><a href="#${ids[name]}">${escapeHtml(message)}</a></li>`).join("")}</ul>` : ""}
</div>`
      : "";
  const control = (
    name: "keyRef" | "description" | "email",
    label: string,
    hint: string,
    input: (attrs: string) => string,
    required: boolean,
  ) => {
    const error = m?.errors?.[name];
    const id = ids[name] as string;
    const attrs = `id="${id}" name="${name}" aria-describedby="${id}-hint${error ? ` ${id}-error` : ""}"${error ? ' aria-invalid="true"' : ""}${required ? " required" : ""}`;
    return `<div class="field${error ? " has-error" : ""}">
<label for="${id}">${label} <span class="tag">${required ? "required" : "optional"}</span></label>
<p class="hint" id="${id}-hint">${hint}</p>
${error ? `<p class="error" id="${id}-error">${escapeHtml(error)}</p>` : ""}
${input(attrs)}
</div>`;
  };
  return `<section aria-labelledby="misuse-heading" class="misuse">
<h2 id="misuse-heading">Think your key was misused? You don't need to paste it</h2>
<p>Tell us which key with the key id or the shortened key shown in your Smelter dashboard, and what you saw. We alert our security team; we never say here whether a key exists.</p>
${summary}
<form method="post" action="/reports" data-misuse-form>
<input type="hidden" name="kind" value="misuse">
${control("keyRef", "Key id or shortened key", "For example <code>3f9a0c12d4e5b6a7</code> or <code>smk_AbCd…wXyZ</code>.", (a) => `<input type="text" ${a} value="${value("keyRef")}" autocomplete="off" spellcheck="false">`, true)}
${control("description", "What did you see?", "Requests you didn't make, unexpected charges, where the key may have leaked.", (a) => `<textarea ${a} rows="4" maxlength="4000">${value("description")}</textarea>`, true)}
${control("email", "Your email for a reply", `Only if you would like a reply. Deleted after ${REPORT_RETENTION_DAYS} days.`, (a) => `<input type="email" ${a} value="${value("email")}" autocomplete="email">`, false)}
<div class="hp" aria-hidden="true"><label for="m-subject">Leave this field empty</label><input type="text" id="m-subject" name="subject" tabindex="-1" autocomplete="off"></div>
<button type="submit">Tell the security team</button>
</form>
</section>`;
}

export const MISUSE_RECEIVED_MESSAGE =
  "Thank you. Our security team has been alerted and will look into it. If you left an email address, we will reply there.";

/** The confirmation of a misuse report: the same whatever the key reference matched. */
export function renderMisuseReceived(reference: string): string {
  return page(
    "Report received – Smelter",
    `<h1 id="received" tabindex="-1" autofocus>Report received</h1>
<p class="lead">${escapeHtml(MISUSE_RECEIVED_MESSAGE)}</p>
<p class="reference">Your reference: <strong id="reference">${escapeHtml(reference)}</strong>. Quote it if you write to us about this report.</p>
<p>If you still have the key, you can also rotate it in your dashboard now.</p>
<p><a href="/report">Back to the report form</a></p>`,
  );
}

/** Smelter's mark as an inline SVG favicon (a data: URL, so the form needs no extra route). */
const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%23b4471b'/%3E%3Cpath d='M4 10.5c.6.9 1.9 1.5 3.3 1.5 2 0 3.2-1 3.2-2.4 0-1.3-.9-1.9-2.7-2.3-1.1-.2-1.5-.5-1.5-.9s.4-.8 1.2-.8c.8 0 1.4.3 1.9.8L10.6 5c-.7-.7-1.7-1.1-2.9-1.1-1.9 0-3.1 1-3.1 2.4 0 1.3.9 1.9 2.6 2.3 1.2.2 1.6.5 1.6.9 0 .5-.5.8-1.3.8-.9 0-1.7-.4-2.3-1z' fill='%23fff'/%3E%3C/svg%3E";

function page(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="${FAVICON}">
<link rel="stylesheet" href="/report.css">
<script src="/report.js" defer></script>
</head>
<body>
<header class="brand"><span class="mark" aria-hidden="true">S</span><span><strong>Smelter</strong> Security</span></header>
<main id="main">
${main}
</main>
<footer><p>Run by the Smelter security team. This form is the only place we ask for a key: we never ask for one by email or chat.</p></footer>
</body>
</html>
`;
}

const FIELD_LABELS: Record<ReportField, string> = {
  text: "The key, or text that contains it",
  url: "Where did you see it?",
  description: "What happened?",
  email: "Your email",
};

function field(
  name: ReportField,
  control: (attrs: string) => string,
  hint: string,
  state: ReportFormState,
  required = false,
): string {
  const error = state.errors?.[name];
  const describedBy = [`${name}-hint`, ...(error ? [`${name}-error`] : [])].join(" ");
  const attrs = `id="${name}" name="${name}" aria-describedby="${describedBy}"${error ? ' aria-invalid="true"' : ""}${required ? " required" : ""}`;
  return `<div class="field${error ? " has-error" : ""}">
<label for="${name}">${escapeHtml(FIELD_LABELS[name])} <span class="tag">${required ? "required" : "optional"}</span></label>
<p class="hint" id="${name}-hint">${hint}</p>
<p class="error" id="${name}-error"${error ? "" : " hidden"}>${error ? escapeHtml(error) : ""}</p>
${control(attrs)}
</div>`;
}

const WHAT_HAPPENS_NEXT = `<section aria-labelledby="next-heading">
<h2 id="next-heading">What happens next</h2>
<ol>
<li>We look for Smelter API keys in what you send. We keep only a fingerprint (a SHA-256 hash) of each key, never the key itself or the text you pasted.</li>
<li>If it is a Smelter key, it is blocked right away so nobody can use it, and its owner is emailed.</li>
<li>Our security team is alerted and looks at every report.</li>
<li>If you leave an email address, we use it only to reply about this report and delete it after ${REPORT_RETENTION_DAYS} days.</li>
</ol>
<p>To protect key owners, we never say whether a key belongs to an account.</p>
</section>`;

/** `GET /report`, and the form shown again (with the reporter's values) after a fixable error. */
export function renderReportForm(
  state: ReportFormState = {},
  prefixes: readonly string[] = ["smk_"],
): string {
  const value = (name: ReportField) => escapeHtml(state.values?.[name] ?? "");
  const errorCount = Object.values(state.errors ?? {}).filter(Boolean).length;
  const summary =
    !state.misuse && (errorCount > 0 || state.notice)
      ? `<div class="summary" role="alert" id="summary" tabindex="-1" autofocus>
<h2>${errorCount > 0 ? "Please check the form" : "Not sent"}</h2>
${state.notice ? `<p>${escapeHtml(state.notice)}</p>` : ""}
${
  errorCount > 0
    ? `<ul>${(Object.entries(state.errors ?? {}) as [ReportField, string][])
        .filter(([, message]) => message)
        .map(([name, message]) => `<li><a href="#${name}">${escapeHtml(message)}</a></li>`)
        .join("")}</ul>`
    : ""
}
</div>`
      : "";
  const prefixList = prefixes.map((prefix) => `<code>${escapeHtml(prefix)}</code>`).join(" or ");
  return page(
    "Report a compromised Smelter API key",
    `<h1>Report a compromised Smelter API key</h1>
<p class="lead">Found a Smelter API key in public, or think yours was misused? Tell us here. No account needed.</p>
${summary}
<form method="post" action="/reports" data-report-form>
${field(
  "text",
  (attrs) =>
    `<textarea ${attrs} rows="8" spellcheck="false" autocomplete="off" autocapitalize="off">${value("text")}</textarea>`,
  `Paste the key itself, or a log, file or stack trace that contains it. Smelter keys start with ${prefixList}. Up to 64&nbsp;KiB.`,
  state,
  true,
)}
${field(
  "url",
  (attrs) => `<input type="url" ${attrs} value="${value("url")}" inputmode="url" autocomplete="off">`,
  "A link to the page, commit, issue or post where the key is exposed.",
  state,
)}
${field(
  "description",
  (attrs) =>
    `<textarea ${attrs} rows="4" maxlength="${REPORT_DESCRIPTION_MAX_CHARS}">${value("description")}</textarea>`,
  "Anything that helps: when you saw it, whether it was used. Please don't paste keys here (a description that contains a key is not kept).",
  state,
)}
${field(
  "email",
  (attrs) => `<input type="email" ${attrs} value="${value("email")}" autocomplete="email">`,
  `Only if you would like a reply. Used for nothing else and deleted after ${REPORT_RETENTION_DAYS} days.`,
  state,
)}
<div class="hp" aria-hidden="true">
<label for="subject">Leave this field empty</label>
<input type="text" id="subject" name="subject" tabindex="-1" autocomplete="off">
</div>
<p class="status" id="status" role="status" aria-live="polite"></p>
<button type="submit">Send report</button>
</form>
${misuseSection(state)}
${WHAT_HAPPENS_NEXT}`,
  );
}

export const RECEIVED_MESSAGE =
  "Thank you. If this is a Smelter key, it has been secured and its owner notified. Our security team has been alerted.";

/** The confirmation after a form post (no JavaScript); the same for registered and unknown keys. */
export function renderReportReceived(redactedKeys: readonly string[], reference: string): string {
  const count = redactedKeys.length;
  return page(
    "Report received – Smelter",
    `<h1 id="received" tabindex="-1" autofocus>Report received</h1>
<p class="lead">${escapeHtml(RECEIVED_MESSAGE)}</p>
<p class="reference">Your reference: <strong id="reference">${escapeHtml(reference)}</strong>. Quote it if you write to us about this report.</p>
<p>We found ${count} ${count === 1 ? "key" : "keys"} in what you sent:</p>
<ul class="keys">${redactedKeys.map((key) => `<li><code>${escapeHtml(key)}</code></li>`).join("")}</ul>
<p>The key${count === 1 ? " is" : "s are"} shown shortened: we never keep the full key or the text you pasted.</p>
<p><a href="/report">Send another report</a></p>`,
  );
}

/** A page for answers that aren't about the form's fields (wrong content type, too large, cross-site). */
export function renderReportProblem(title: string, message: string): string {
  return page(
    `${title} – Smelter`,
    `<h1>${escapeHtml(title)}</h1>
<p class="lead">${escapeHtml(message)}</p>
<p><a href="/report">Back to the report form</a></p>`,
  );
}

/** WCAG AA in both schemes: text 4.5:1, the Send button's label against its fill included. */
export const REPORT_FORM_CSS = `:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #fff; --accent: #1a5fb4; --on-accent: #fff; --error: #b3261e; --muted: #555; --brand: #b4471b; --error-bg: #fdecea; }
@media (prefers-color-scheme: dark) { :root { --fg: #ececec; --bg: #121212; --accent: #8ab4f8; --on-accent: #0b1220; --error: #f2b8b5; --muted: #bbb; --brand: #f0a27e; --error-bg: #2d1614; } }
body { color: var(--fg); background: var(--bg); }
header.brand { display: flex; gap: 0.6rem; align-items: center; max-width: 42rem; margin: 0 auto; padding: 1rem 1rem 0; font-size: 1.1rem; }
header.brand .mark { display: inline-flex; align-items: center; justify-content: center; width: 1.8rem; height: 1.8rem; border-radius: 6px; background: #b4471b; color: #fff; font-weight: 700; }
header.brand strong { color: var(--brand); }
footer { max-width: 42rem; margin: 0 auto; padding: 0 1rem 2rem; color: var(--muted); font-size: 0.9rem; }
.reference strong { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
* { box-sizing: border-box; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 42rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.75rem; line-height: 1.2; }
.lead { font-size: 1.1rem; }
.field { margin: 0 0 1.25rem; }
label { display: block; font-weight: 600; }
.tag { font-weight: 400; color: var(--muted); font-size: 0.9rem; }
.hint { margin: 0.15rem 0 0.4rem; color: var(--muted); font-size: 0.95rem; }
.error { margin: 0.15rem 0 0.4rem; color: var(--error); font-weight: 600; }
input, textarea { width: 100%; font: inherit; padding: 0.5rem; border: 2px solid currentColor; border-radius: 4px; background: transparent; color: inherit; }
textarea#text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9rem; }
[aria-invalid="true"] { border-color: var(--error); }
button { font: inherit; font-weight: 600; padding: 0.6rem 1.4rem; border: 2px solid var(--accent); border-radius: 4px; background: var(--accent); color: var(--on-accent); cursor: pointer; }
button[disabled] { opacity: 0.6; cursor: progress; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 3px; }
a { color: var(--accent); }
.summary { border: 3px solid var(--error); background: var(--error-bg); padding: 0.5rem 1rem; margin: 0 0 1.5rem; }
.summary:focus { outline: 3px solid var(--accent); outline-offset: 3px; }
.summary h2 { margin-top: 0.25rem; font-size: 1.2rem; }
.status:empty { display: none; }
.hp { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
code { overflow-wrap: anywhere; }
`;

/** Progressive enhancement only: without it the form posts and the server answers with a page. */
export const REPORT_FORM_JS = `"use strict";
(function () {
  var form = document.querySelector("form[data-report-form]");
  if (!form || !window.fetch || !window.FormData) return;
  var status = document.getElementById("status");
  var button = form.querySelector("button[type=submit]");
  var text = document.getElementById("text");
  var fields = ["text", "url", "description", "email"];

  // Paste a file: read into the text box, so it is sent (and checked) like pasted text.
  var loader = document.createElement("div");
  loader.className = "field";
  var fileLabel = document.createElement("label");
  fileLabel.htmlFor = "file";
  fileLabel.textContent = "Or load the text from a file ";
  var fileTag = document.createElement("span");
  fileTag.className = "tag";
  fileTag.textContent = "optional, up to 64 KiB";
  fileLabel.appendChild(fileTag);
  var file = document.createElement("input");
  file.type = "file";
  file.id = "file";
  loader.appendChild(fileLabel);
  loader.appendChild(file);
  text.parentNode.parentNode.insertBefore(loader, text.parentNode.nextSibling);
  file.addEventListener("change", function () {
    var chosen = file.files && file.files[0];
    if (!chosen) return;
    if (chosen.size > 65536) { showErrors({ text: "That file is " + Math.ceil(chosen.size / 1024) + " KiB; the limit is 64 KiB. Paste the part around the key instead." }, null); return; }
    chosen.text().then(function (content) { text.value = content; status.textContent = "Loaded " + chosen.name + "."; });
  });

  // Same as the page the server renders without JavaScript: a summary that is announced and focused.
  function showErrors(errors, notice) {
    fields.forEach(function (name) {
      var input = document.getElementById(name);
      var error = document.getElementById(name + "-error");
      var message = errors && errors[name];
      error.textContent = message || "";
      error.hidden = !message;
      if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", name + "-hint" + (message ? " " + name + "-error" : ""));
    });
    var old = document.getElementById("summary");
    if (old) old.parentNode.removeChild(old);
    var listed = fields.filter(function (name) { return errors && errors[name]; });
    var summary = document.createElement("div");
    summary.className = "summary";
    summary.id = "summary";
    summary.tabIndex = -1;
    summary.setAttribute("role", "alert");
    var heading = document.createElement("h2");
    heading.textContent = listed.length ? "Please check the form" : "Not sent";
    summary.appendChild(heading);
    if (notice) { var p = document.createElement("p"); p.textContent = notice; summary.appendChild(p); }
    if (listed.length) {
      var list = document.createElement("ul");
      listed.forEach(function (name) {
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = "#" + name;
        link.textContent = errors[name];
        item.appendChild(link);
        list.appendChild(item);
      });
      summary.appendChild(list);
    }
    form.parentNode.insertBefore(summary, form);
    summary.focus();
  }

  function showReceived(answer) {
    var main = document.getElementById("main");
    while (main.firstChild) main.removeChild(main.firstChild);
    var heading = document.createElement("h1");
    heading.id = "received";
    heading.tabIndex = -1;
    heading.textContent = "Report received";
    var lead = document.createElement("p");
    lead.className = "lead";
    lead.textContent = answer.message;
    var found = document.createElement("p");
    found.textContent = "We found " + answer.keys.length + (answer.keys.length === 1 ? " key" : " keys") + " in what you sent:";
    var list = document.createElement("ul");
    list.className = "keys";
    answer.keys.forEach(function (key) {
      var item = document.createElement("li");
      var code = document.createElement("code");
      code.textContent = key;
      item.appendChild(code);
      list.appendChild(item);
    });
    var ref = document.createElement("p");
    ref.className = "reference";
    ref.appendChild(document.createTextNode("Your reference: "));
    var refValue = document.createElement("strong");
    refValue.id = "reference";
    refValue.textContent = answer.reference;
    ref.appendChild(refValue);
    ref.appendChild(document.createTextNode(". Quote it if you write to us about this report."));
    var again = document.createElement("p");
    var link = document.createElement("a");
    link.href = "/report";
    link.textContent = "Send another report";
    again.appendChild(link);
    [heading, lead, ref, found, list, again].forEach(function (node) { main.appendChild(node); });
    heading.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = {};
    new FormData(form).forEach(function (value, name) { if (typeof value === "string") data[name] = value; });
    button.disabled = true;
    status.textContent = "Sending…";
    fetch(form.action, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(data),
      credentials: "same-origin",
    })
      .then(function (response) { return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; }); })
      .then(function (result) {
        if (result.ok) { showReceived(result.answer); return; }
        status.textContent = "";
        showErrors(result.answer.errors || {}, result.answer.errors ? null : result.answer.message || "The report was not sent.");
      })
      .catch(function () { status.textContent = ""; showErrors({}, "The report could not be sent. Check your connection and try again; your text is still here."); })
      .then(function () { button.disabled = false; });
  });
})();
`;
