/**
 * The console's static page, script and style. Kept as strings so esbuild bundles them into the
 * Lambda; the page has no inline script or style, so the CSP can forbid both. The script is
 * written without template literals so it can sit in String.raw (its regexes keep their "\").
 */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>keywatch console</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%230b5cad'/%3E%3Cpath d='M5 11V5h1.6v2.3L8.8 5h2L8.3 7.7 11 11H8.9L7.2 8.8l-.6.6V11z' fill='%23fff'/%3E%3C/svg%3E">
<link rel="stylesheet" href="/console/app.css">
<script type="module" src="/console/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="bar"><a href="#/" class="brand">keywatch</a><span class="tag">Smelter security console</span>
<nav aria-label="Console"><a href="#/">Incidents</a><a href="#/anomalies">Anomalies</a><a href="#/health">Scanner health</a></nav>
<span id="who" class="who"></span></header>
<div id="announcer" class="visually-hidden" role="status" aria-live="polite" aria-atomic="true"></div>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<noscript><p>The console needs JavaScript; the same data is at /api/incidents.</p></noscript>
</body>
</html>
`;

/** Colours are chosen for WCAG AA (4.5:1 text, 3:1 UI) on both schemes; dark follows the system. */
export const CONSOLE_CSS = `:root{color-scheme:light dark;--fg:#1b1f24;--muted:#4b5563;--bg:#f6f7f9;--card:#fff;--line:#c4cad3;--accent:#0b5cad;--accent-fg:#fff;--high:#b42318;--medium:#9a3d07;--low:#05603a;--pill:#eef2f6;--focus:#b45309;--warn-bg:#fff4e5;--bar:#111827;--bar-fg:#fff;--bar-muted:#cbd5e1;--sel:#e8f0fb}
@media (prefers-color-scheme: dark){:root{--fg:#e5e7eb;--muted:#b4bcc8;--bg:#0f1115;--card:#181b21;--line:#3a414d;--accent:#8ab4f8;--accent-fg:#0b1220;--high:#ffb4ab;--medium:#fdba74;--low:#86efac;--pill:#262b33;--focus:#fbbf24;--warn-bg:#3a2a12;--bar:#05070a;--sel:#1d2a3d}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
.skip{position:absolute;left:-9999px}.skip:focus{left:1rem;top:.5rem;background:var(--card);color:var(--fg);padding:.4rem .8rem;z-index:10}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.bar{display:flex;flex-wrap:wrap;gap:.75rem;align-items:baseline;padding:.75rem 1.25rem;background:var(--bar);color:var(--bar-fg)}
.bar a{color:var(--bar-fg)}.brand{font-weight:700;text-decoration:none}.tag{color:var(--bar-muted)}.who{margin-left:auto;color:var(--bar-muted)}
nav{display:flex;gap:1rem}nav a{text-decoration:underline;text-underline-offset:3px}
main{max-width:1200px;margin:0 auto;padding:1rem 1.25rem}main:focus{outline:none}
h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1rem 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin-bottom:1rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
tr.selected{background:var(--sel)}
a{color:var(--accent)}:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.pill{display:inline-block;padding:0 .5rem;border-radius:999px;font-size:.85rem;border:1px solid var(--line);background:var(--pill);color:var(--fg)}
.sev-high{color:var(--high);font-weight:600}.sev-medium{color:var(--medium);font-weight:600}.sev-low{color:var(--low)}
.muted{color:var(--muted)}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}td a.mono{white-space:nowrap}
.row{display:flex;gap:.5rem;flex-wrap:wrap;align-items:flex-end}
label{display:flex;flex-direction:column;gap:.15rem;font-size:.85rem;color:var(--muted)}
input,select,textarea{font:inherit;color:var(--fg);background:var(--card);border:1px solid var(--muted);border-radius:6px;padding:.35rem .5rem}
textarea{width:100%;min-height:4rem}
button{font:inherit;padding:.4rem .9rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);cursor:pointer}
button.secondary{background:var(--card);color:var(--accent)}button[disabled]{opacity:.6;cursor:not-allowed}
button.tab{background:var(--card);color:var(--fg);border-color:var(--line)}button.tab[aria-pressed=true]{background:var(--accent);color:var(--accent-fg);border-color:var(--accent)}
.tabs{display:flex;gap:.35rem;flex-wrap:wrap;margin:.25rem 0 .75rem}
.error{color:var(--high)}.notice{background:var(--warn-bg);border:1px solid var(--medium);border-radius:8px;padding:.75rem 1rem;margin:.75rem 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dt{color:var(--muted)}dd{margin:0}
ol.timeline{list-style:none;padding:0;margin:0}ol.timeline li{border-left:3px solid var(--line);padding:.25rem 0 .6rem .75rem}
ol.timeline li.detection{border-color:var(--high)}ol.timeline li.notification{border-color:var(--accent)}ol.timeline li.comment{border-color:var(--muted)}
.legend{display:flex;gap:1rem;flex-wrap:wrap;font-size:.85rem}.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:-1px}
svg{width:100%;height:auto;max-height:260px}svg text{font:11px system-ui,sans-serif;fill:var(--muted)}
.t0{background:#2563eb}.t1{background:#7c3aed}.t2{background:#d97706}.t3{background:#dc2626}.t4{background:#059669}
.health-ok{color:var(--low);font-weight:600}.health-bad{color:var(--high);font-weight:600}
.plain{white-space:pre-wrap;overflow-wrap:anywhere}
@media (max-width:600px){main{padding:.75rem}.hide-narrow{display:none}th,td{padding:.3rem}}
`;

export const CONSOLE_JS = String.raw`const STATES = ["open", "notified", "acknowledged", "resolved", "false_positive"];
const OPEN_WORK = ["open", "notified", "acknowledged"];
const STATE_LABELS = { open: "Open", notified: "Notified", acknowledged: "Acknowledged", resolved: "Resolved", false_positive: "False positive" };
const TRANSITIONS = {
  acknowledge: ["open", "notified"],
  resolve: ["open", "notified", "acknowledged"],
  false_positive: ["open", "notified", "acknowledged"],
  reopen: ["resolved", "false_positive"],
};
const LABELS = { acknowledge: "Acknowledge", resolve: "Resolve", false_positive: "Mark false positive", reopen: "Reopen" };
const DONE = { acknowledge: "acknowledged", resolve: "resolved", false_positive: "marked false positive", reopen: "reopened" };
const SOURCES = { github_partner: "GitHub secret scanning", github_event: "GitHub events", github_code_search: "GitHub code search", user_report: "Report form" };
const TYPES = ["new_country", "ip_fanout", "rate_spike", "credential_stuffing", "use_after_leak"];
const TYPE_LABELS = { new_country: "New country", ip_fanout: "IP fan-out", rate_spike: "Rate spike", credential_stuffing: "Credential stuffing", use_after_leak: "Use after leak" };
const COLORS = ["#2563eb", "#7c3aed", "#d97706", "#dc2626", "#059669"];
const SCANNERS = { events_poller: "GitHub events poller", code_search: "GitHub code search sweep", watcher: "Repository watcher", partner_webhook: "GitHub partner webhook", report_form: "Report form" };
const main = document.getElementById("main");
const announcer = document.getElementById("announcer");
const SESSION = "keywatch.session";
let config = { auth: "none" };
let me = { actor: "", canAct: false };

function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else if (name === "onsubmit") node.addEventListener("submit", value);
    else if (name === "onchange") node.addEventListener("change", value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children || []) if (child !== undefined && child !== null) node.append(child);
  return node;
}

/** replaceChildren without the absent parts (a bare null would be shown as the text "null"). */
function show(parent, ...children) {
  parent.replaceChildren(...children.filter((child) => child !== null && child !== undefined));
}

/** Screen readers hear every result; the text is re-set so the same message is read again. */
function announce(message) {
  announcer.textContent = "";
  setTimeout(() => { announcer.textContent = message; }, 30);
}

function fmt(iso) {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/:\d\dZ$/, "Z") : "";
}

function safeLink(url, text) {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "https:" || parsed.protocol === "http:")
      return el("a", { href: parsed.href, rel: "noopener noreferrer", target: "_blank", text: text || parsed.href });
  } catch {}
  return el("span", { class: "mono plain", text: text || String(url) });
}

class AuthError extends Error {}
class ApiError extends Error {
  constructor(status, body) { super(body.message || "HTTP " + status); this.status = status; this.body = body; }
}

// ---- sign-in (deployed: Cognito hosted UI, authorization code + PKCE; the token lives in this tab) ----
function storedToken() {
  try {
    const session = JSON.parse(sessionStorage.getItem(SESSION) || "null");
    if (session && typeof session.token === "string" && session.token.length > 20 && session.expiresAt > Date.now() + 15000) return session.token;
  } catch {}
  sessionStorage.removeItem(SESSION);
  return null;
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function startSignIn() {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem("keywatch.verifier", verifier);
  sessionStorage.setItem("keywatch.return", location.hash || "#/");
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  location.assign(config.domain + "/oauth2/authorize?" + new URLSearchParams({ response_type: "code", client_id: config.clientId, redirect_uri: location.origin + "/console", scope: "openid", code_challenge_method: "S256", code_challenge: challenge }));
}

function signInPage(title, message) {
  sessionStorage.removeItem(SESSION);
  const button = el("button", { type: "button", id: "sign-in", text: "Sign in again", onclick: () => startSignIn() });
  show(main, el("h1", { text: title }), el("p", { role: "alert", text: message }), button);
  button.focus();
}

/** Exchanges the code once; any failure leaves no token behind and offers a fresh sign-in. */
async function completeSignIn(code) {
  const verifier = sessionStorage.getItem("keywatch.verifier");
  sessionStorage.removeItem("keywatch.verifier");
  history.replaceState(null, "", "/console" + (sessionStorage.getItem("keywatch.return") || ""));
  if (!verifier) return "This sign-in link was already used or started in another tab.";
  try {
    const response = await fetch(config.domain + "/oauth2/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", client_id: config.clientId, code, redirect_uri: location.origin + "/console", code_verifier: verifier }),
    });
    const tokens = await response.json().catch(() => ({}));
    if (!response.ok) return "The sign-in service refused the code (" + (tokens.error || "HTTP " + response.status) + ").";
    if (typeof tokens.access_token !== "string" || tokens.access_token.length < 20) return "The sign-in service sent no usable token.";
    const seconds = Number(tokens.expires_in) > 0 ? Number(tokens.expires_in) : 3600;
    sessionStorage.setItem(SESSION, JSON.stringify({ token: tokens.access_token, expiresAt: Date.now() + seconds * 1000 }));
    return null;
  } catch {
    return "The sign-in service could not be reached.";
  }
}

async function api(path, init) {
  const headers = Object.assign({ accept: "application/json" }, (init && init.headers) || {});
  if (config.auth === "cognito") {
    const token = storedToken();
    if (!token) throw new AuthError("Your session has expired.");
    headers.authorization = "Bearer " + token;
  }
  const response = await fetch(path, Object.assign({}, init, { headers }));
  const body = await response.json().catch(() => ({}));
  if (response.status === 401 && config.auth === "cognito") throw new AuthError("Your session has expired.");
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function post(path, payload) {
  return api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload) });
}

function failed(error, where) {
  if (error instanceof AuthError) { signInPage("Signed out", error.message + " Sign in again to go on; nothing you were doing was saved half-way."); return; }
  where.textContent = error.message;
  where.className = "error";
  announce("Error: " + error.message);
}

// ---- shared bits ----
function statePill(state) {
  return el("span", { class: "pill state", text: STATE_LABELS[state] || state });
}

function canAct() {
  return me.canAct;
}

function readOnlyNote() {
  return canAct() ? null : el("p", { class: "notice", text: "Read-only: your account is not in the responders group, so actions are switched off." });
}

// ---- the queue ----
const queue = { kind: "leaked_key", states: "open_work", sort: "updated", severity: "", source: "", project: "", q: "", rows: [], cursor: undefined, counts: {}, selected: new Set(), readAt: "" };

function queueQuery(cursor) {
  const params = { kind: queue.kind, state: queue.states, sort: queue.sort, limit: "50" };
  for (const name of ["severity", "source", "project", "q"]) if (queue[name]) params[name] = queue[name];
  if (cursor) params.cursor = cursor;
  return "/api/incidents?" + new URLSearchParams(params);
}

async function loadQueue(more) {
  const [page, counts] = await Promise.all([
    api(queueQuery(more ? queue.cursor : undefined)),
    more ? { counts: queue.counts } : api("/api/incident-counts?kind=" + queue.kind),
  ]);
  queue.rows = more ? queue.rows.concat(page.incidents) : page.incidents;
  queue.cursor = page.cursor;
  queue.counts = counts.counts || {};
  queue.truncated = Boolean(page.truncated);
  queue.readAt = page.readAt;
  if (!more) queue.selected.clear();
}

function countOf(states) {
  if (states === "all") return STATES.reduce((sum, s) => sum + (queue.counts[s] || 0), 0);
  if (states === "open_work") return OPEN_WORK.reduce((sum, s) => sum + (queue.counts[s] || 0), 0);
  return queue.counts[states] || 0;
}

function incidentRow(i) {
  const box = el("input", { type: "checkbox", class: "pick", "aria-label": "Select " + i.redacted, disabled: !canAct() });
  box.checked = queue.selected.has(i.incidentId);
  box.addEventListener("change", () => {
    if (box.checked) queue.selected.add(i.incidentId); else queue.selected.delete(i.incidentId);
    row.classList.toggle("selected", box.checked);
    updateBulkBar();
  });
  const row = el("tr", { "data-incident": i.incidentId, class: box.checked ? "selected" : undefined }, [
    el("td", {}, [box]),
    el("td", {}, [el("a", { href: "#/incident/" + i.incidentId, class: "mono", text: i.redacted })]),
    el("td", { class: "state-cell" }, [statePill(i.state)]),
    el("td", { class: "sev-" + i.severity, text: i.severity }),
    el("td", { class: "hide-narrow", text: (i.sources || []).map((s) => SOURCES[s] || s).join(", ") }),
    el("td", { text: i.projectId || "—" }),
    el("td", { class: "hide-narrow", text: i.assignee || "" }),
    el("td", { text: fmt(i.updatedAt) }),
    el("td", { class: "hide-narrow", text: fmt(i.openedAt) }),
  ]);
  return row;
}

function updateBulkBar() {
  const count = document.getElementById("selected-count");
  if (count) count.textContent = queue.selected.size + " selected";
  // Buttons stay enabled (and focusable) with nothing selected; a click then says what to do.
  for (const button of document.querySelectorAll("[data-bulk]")) button.disabled = !canAct();
}

function queueTable() {
  if (queue.rows.length === 0) {
    const filtered = queue.q || queue.severity || queue.source || queue.project;
    return el("p", { class: "muted", id: "queue-empty", text: filtered ? "No incident matches these filters." : queue.states === "open_work" ? "No open work: every incident is resolved or a false positive." : "No incident in this state." });
  }
  const all = el("input", { type: "checkbox", id: "select-page", "aria-label": "Select every incident shown", disabled: !canAct() });
  all.addEventListener("change", () => {
    for (const i of queue.rows) if (all.checked) queue.selected.add(i.incidentId); else queue.selected.delete(i.incidentId);
    for (const box of document.querySelectorAll("#queue input.pick")) { box.checked = all.checked; box.closest("tr").classList.toggle("selected", all.checked); }
    updateBulkBar();
  });
  const head = ["Key", "State", "Severity", "Sources", "Project", "Assignee", "Updated", "Opened"].map((h, n) => el("th", { scope: "col", class: [4, 6, 8].includes(n + 1) ? "hide-narrow" : undefined, text: h }));
  return el("div", { class: "scroll" }, [el("table", { id: "queue" }, [
    el("caption", { class: "visually-hidden", text: "Incidents" }),
    el("thead", {}, [el("tr", {}, [el("th", { scope: "col" }, [all])].concat(head))]),
    el("tbody", {}, queue.rows.map(incidentRow)),
  ])]);
}

function select(id, label, options, value) {
  const node = el("select", { id, name: id }, options.map(([v, text]) => el("option", { value: v, text })));
  node.value = value;
  return el("label", { for: id }, [label, node]);
}

function filters() {
  const search = el("input", { id: "q", name: "q", type: "search", value: queue.q, placeholder: "smk_AbCd…wXyZ, key id, project, owner/repo, URL", size: "40" });
  const project = el("input", { id: "project", name: "project", value: queue.project, size: "12" });
  const form = el("form", { class: "row", id: "filters", role: "search", onsubmit: async (event) => {
    event.preventDefault();
    queue.q = search.value.trim();
    queue.project = project.value.trim();
    queue.severity = document.getElementById("severity").value;
    queue.source = document.getElementById("source").value;
    queue.sort = document.getElementById("sort").value;
    await refreshQueue("filters-apply");
  } }, [
    el("label", { for: "q" }, ["Search", search]),
    select("severity", "Severity", [["", "any"], ["high", "high"], ["medium", "medium"], ["low", "low"]], queue.severity),
    select("source", "Source", [["", "any"]].concat(Object.entries(SOURCES)), queue.source),
    el("label", { for: "project" }, ["Project", project]),
    select("sort", "Sort by", [["updated", "last update"], ["opened", "opening time"], ["severity", "severity"]], queue.sort),
    el("button", { type: "submit", id: "filters-apply", text: "Apply" }),
  ]);
  return form;
}

function stateTabs() {
  const tabs = [["open_work", "Open work"]].concat(STATES.map((s) => [s, STATE_LABELS[s]])).concat([["all", "All"]]);
  return el("div", { class: "tabs", role: "group", "aria-label": "State" }, tabs.map(([value, label]) =>
    el("button", { type: "button", class: "tab", id: "state-" + value, "aria-pressed": String(queue.states === value), text: label + " (" + countOf(value) + ")", onclick: async () => { queue.states = value; await refreshQueue("state-" + value); } })));
}

function kindTabs() {
  return el("div", { class: "tabs", role: "group", "aria-label": "Kind" }, [["leaked_key", "Leaked keys"], ["unknown_key", "Unknown keys"]].map(([value, label]) =>
    el("button", { type: "button", class: "tab", id: "kind-" + value, "aria-pressed": String(queue.kind === value), text: label, onclick: async () => { queue.kind = value; queue.states = "open_work"; await refreshQueue("kind-" + value); } })));
}

function bulkBar() {
  const reason = el("input", { id: "bulk-reason", name: "reason", size: "36", required: true, disabled: !canAct(), autocomplete: "off" });
  const assignee = el("input", { id: "bulk-assignee", size: "12", disabled: !canAct(), autocomplete: "off" });
  const status = el("p", { id: "bulk-status", class: "muted" });
  const run = async (action, button) => {
    if (!reason.value.trim()) { status.textContent = "Give a reason first: it goes in each incident's audit trail."; status.className = "error"; reason.focus(); announce(status.textContent); return; }
    const picked = queue.rows.filter((i) => queue.selected.has(i.incidentId));
    if (picked.length === 0) { status.textContent = "Select incidents first (the boxes in the first column)."; status.className = "error"; announce(status.textContent); return; }
    try {
      let done = 0;
      const problems = [];
      for (let n = 0; n < picked.length; n += 100) {
        const chunk = picked.slice(n, n + 100);
        const answer = await post("/api/incidents/bulk-actions", { action, reason: reason.value.trim(), since: queue.readAt, incidents: chunk.map((i) => ({ id: i.incidentId, expectedVersion: i.version })) });
        for (const result of answer.results) {
          const at = queue.rows.findIndex((i) => i.incidentId === result.incidentId);
          if (result.outcome === "done") { done += 1; queue.rows[at] = result.incident; }
          else if (result.outcome === "stale") { problems.push(result); queue.rows[at] = result.current; }
          else problems.push(result);
        }
      }
      // Rows stay where they were (stable order while acting); only their cells change.
      queue.selected.clear();
      renderQueueBody();
      const message = LABELS[action] + ": " + done + " of " + picked.length + " done" + (problems.length ? "; " + problems.length + " skipped (changed by someone else or not allowed in their state; their rows show the current state)" : "") + ".";
      status.textContent = message;
      status.className = problems.length ? "error" : "muted";
      announce(message);
    } catch (error) { failed(error, status); }
    updateBulkBar();
    button.focus();
  };
  const assign = async (button) => {
    const picked = queue.rows.filter((i) => queue.selected.has(i.incidentId));
    if (picked.length === 0) { status.textContent = "Select incidents first (the boxes in the first column)."; status.className = "error"; announce(status.textContent); return; }
    let done = 0;
    for (const incident of picked) {
      try {
        const answer = await post("/api/incidents/" + incident.incidentId + "/assignee", { assignee: assignee.value.trim() || null, expectedVersion: incident.version, since: queue.readAt });
        queue.rows[queue.rows.indexOf(incident)] = answer.incident;
        done += 1;
      } catch (error) { if (error instanceof AuthError) return failed(error, status); }
    }
    queue.selected.clear();
    renderQueueBody();
    const message = (assignee.value.trim() ? "Assigned to " + assignee.value.trim() : "Unassigned") + ": " + done + " of " + picked.length + ".";
    status.textContent = message;
    announce(message);
    updateBulkBar();
    button.focus();
  };
  const actionButtons = ["acknowledge", "resolve", "false_positive"].map((action) => {
    const button = el("button", { type: "button", class: action === "resolve" ? undefined : "secondary", "data-bulk": action, text: LABELS[action] });
    button.addEventListener("click", () => run(action, button));
    return button;
  });
  const assignButton = el("button", { type: "button", class: "secondary", "data-bulk": "assign", text: "Assign" });
  assignButton.addEventListener("click", () => assign(assignButton));
  return el("section", { class: "card", "aria-labelledby": "bulk-h" }, [
    el("h2", { id: "bulk-h", text: "Act on the selected incidents" }),
    el("div", { class: "row" }, [el("span", { id: "selected-count", class: "muted", text: "0 selected" }), el("label", { for: "bulk-reason" }, ["Reason (required, kept in the audit trail)", reason])].concat(actionButtons).concat([el("label", { for: "bulk-assignee" }, ["Assignee (empty: unassign)", assignee]), assignButton])),
    status,
  ]);
}

function renderQueueBody() {
  const holder = document.getElementById("queue-holder");
  if (!holder) return;
  const shown = queue.rows.length;
  const total = queue.q ? null : countOf(queue.states);
  const filtered = queue.q || queue.severity || queue.source || queue.project;
  const more = queue.cursor ? el("button", { type: "button", id: "load-more", class: "secondary", text: "Show more", onclick: async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    const before = queue.rows.length;
    try { await loadQueue(true); } catch (error) { return failed(error, document.getElementById("queue-summary")); }
    renderQueueBody();
    const firstNew = document.querySelectorAll("#queue tbody tr")[before];
    const target = firstNew ? firstNew.querySelector("a") : document.getElementById("queue-summary");
    target.focus();
    announce((queue.rows.length - before) + " more incidents shown, " + queue.rows.length + " in all.");
  } }) : null;
  const summary = el("p", { id: "queue-summary", tabindex: "-1", class: "muted", text: "Showing " + shown + (total !== null && !filtered ? " of " + total : "") + (queue.cursor ? " (more below)" : "") + (queue.truncated ? " (more than 200 matches: narrow the search)" : "") + "." });
  show(holder, summary, queueTable(), more);
  updateBulkBar();
}

async function refreshQueue(focusId) {
  const holder = document.getElementById("queue-holder");
  if (holder) holder.setAttribute("aria-busy", "true");
  try { await loadQueue(false); } catch (error) { return failed(error, document.getElementById("queue-summary") || main); }
  renderQueue();
  const target = focusId && document.getElementById(focusId);
  if (target) target.focus();
  announce(queue.rows.length + " incidents shown" + (queue.cursor ? ", more available" : "") + ".");
}

function renderQueue() {
  document.title = "Incidents · keywatch";
  show(main, 
    el("h1", { text: "Incidents" }),
    readOnlyNote(),
    el("div", { id: "health-summary" }),
    kindTabs(),
    stateTabs(),
    el("section", { class: "card", "aria-label": "Filters" }, [filters()]),
    bulkBar(),
    el("section", { class: "card", id: "queue-holder", "aria-label": "Incident list" }),
  );
  renderQueueBody();
  healthSummary();
}

async function showQueue() {
  await loadQueue(false);
  renderQueue();
}

// ---- scanner health ----
function ago(iso) {
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60000);
  if (minutes < 1) return "just now";
  if (minutes < 120) return minutes + " min ago";
  const hours = Math.round(minutes / 60);
  return hours < 48 ? hours + " h ago" : Math.round(hours / 24) + " days ago";
}

async function healthSummary() {
  const holder = document.getElementById("health-summary");
  try {
    const { scanners } = await api("/api/scanner-health");
    const bad = scanners.filter((s) => s.outcome !== "ok");
    const silent = Object.keys(SCANNERS).length - scanners.length;
    const text = scanners.length === 0 ? "Scanner health: no channel has reported a run yet." : bad.length === 0 ? "Scanner health: every reporting channel ran fine." + (silent ? " " + silent + " never reported." : "") : "Scanner health: " + bad.length + " channel(s) need attention.";
    show(holder, el("p", { class: bad.length ? "notice" : "muted" }, [text + " ", el("a", { href: "#/health", text: "Details" })]));
  } catch {}
}

async function showHealth() {
  document.title = "Scanner health · keywatch";
  const { scanners } = await api("/api/scanner-health");
  const byName = new Map(scanners.map((s) => [s.scanner, s]));
  const rows = Object.entries(SCANNERS).map(([name, label]) => {
    const s = byName.get(name);
    if (!s) return el("tr", { "data-scanner": name }, [el("th", { scope: "row", text: label }), el("td", { class: "health-bad", text: "never reported" }), el("td", { colspan: "5", class: "muted", text: "No run recorded: not deployed here, not configured, or not running." })]);
    const counts = s.counts ? Object.entries(s.counts).map(([k, v]) => k + " " + v).join(", ") : "";
    return el("tr", { "data-scanner": name }, [
      el("th", { scope: "row", text: label }),
      el("td", { class: s.outcome === "ok" ? "health-ok" : "health-bad", text: s.outcome }),
      el("td", { text: fmt(s.lastRunAt) + " (" + ago(s.lastRunAt) + ")" }),
      el("td", { text: s.lastOkAt ? fmt(s.lastOkAt) : "never" }),
      el("td", { text: s.coverage === undefined ? "—" : Math.round(s.coverage * 100) + "%" }),
      el("td", { text: s.backlog === undefined ? "—" : String(s.backlog) }),
      el("td", { class: "plain", text: [s.detail, counts].filter(Boolean).join(" · ") }),
    ]);
  });
  show(main, 
    el("h1", { text: "Scanner health" }),
    el("p", { class: "muted", text: "Each detection channel reports its last run here, so an empty incident list can be told apart from scanning that stopped." }),
    el("section", { class: "card scroll" }, [el("table", { id: "health" }, [
      el("thead", {}, [el("tr", {}, ["Channel", "Outcome", "Last run", "Last good run", "Coverage", "Backlog", "Detail"].map((h) => el("th", { scope: "col", text: h })))]),
      el("tbody", {}, rows),
    ])]),
  );
}

// ---- one incident ----
async function showIncident(id, notice) {
  const details = await api("/api/incidents/" + encodeURIComponent(id));
  const { incident } = details;
  document.title = incident.redacted + " · keywatch";
  const status = el("p", { id: "action-status", class: "muted" });
  const reason = el("textarea", { id: "reason", name: "reason", rows: "2", disabled: !canAct() });
  const actions = Object.keys(TRANSITIONS).filter((a) => TRANSITIONS[a].includes(incident.state)).map((action) => {
    const button = el("button", { type: "button", class: action === "resolve" ? undefined : "secondary", "data-action": action, text: LABELS[action], disabled: !canAct() });
    button.addEventListener("click", async () => {
      if (!reason.value.trim()) { status.textContent = "Give a reason first: it goes in the audit trail."; status.className = "error"; reason.focus(); announce(status.textContent); return; }
      try {
        await post("/api/incidents/" + id + "/actions", { action, reason: reason.value.trim(), expectedVersion: incident.version, since: details.readAt });
        await showIncident(id, { text: "Incident " + DONE[action] + ".", focus: "action-status" });
      } catch (error) {
        if (error instanceof ApiError && error.status === 409 && error.body.current) return showIncident(id, { stale: error.body });
        failed(error, status);
      }
    });
    return button;
  });
  const facts = [
    ["State", [statePill(incident.state), el("span", { id: "incident-state", class: "visually-hidden", text: incident.state })]],
    ["Severity", [el("span", { class: "sev-" + incident.severity, text: incident.severity })]],
    ["Kind", [incident.kind === "leaked_key" ? "one of our keys (owner notified, key quarantined)" : "a valid-looking key that is not ours"]],
    ["Owner (project)", [incident.projectId || "—"]],
    ["Assignee", [incident.assignee || "nobody"]],
    ["Key id", [el("span", { class: "mono", text: incident.keyId })]],
    ["Sources", [(incident.sources || []).map((s) => SOURCES[s] || s).join(", ")]],
    ["Opened", [fmt(incident.openedAt)]],
    ["Last seen", [fmt(incident.lastSeenAt)]],
    ["Places seen", [String(incident.occurrenceCount)]],
  ];
  if (incident.triageReason) facts.push(["Last reason", [el("span", { class: "plain", text: incident.triageReason })]]);
  const keySection = details.key ? el("section", { class: "card", "aria-labelledby": "key-h" }, [
    el("h2", { id: "key-h", text: "The key" }),
    el("p", {}, ["Status now: ", el("strong", { id: "key-status", text: details.key.status }), details.key.revokedAt ? " (revoked " + fmt(details.key.revokedAt) + ")" : details.key.status === "compromised" ? " — quarantined: the API refuses it; revoking makes that permanent." : ""]),
    details.key.status === "revoked" ? null : revokeForm(id),
  ]) : null;
  const notifications = details.notifications ? el("section", { class: "card scroll", "aria-labelledby": "sent-h" }, [
    el("h2", { id: "sent-h", text: "What was sent to whom" }),
    details.notifications.length === 0 ? el("p", { class: "muted", text: "Nothing is sent for this kind of incident." }) :
    el("table", { id: "notifications" }, [
      el("thead", {}, [el("tr", {}, ["To", "Opening", "Status", "When"].map((h) => el("th", { scope: "col", text: h })))]),
      el("tbody", {}, details.notifications.map((n) => el("tr", {}, [el("td", { text: n.to }), el("td", { text: String(n.opening) }), el("td", { text: n.status.replace("_", " ") }), el("td", { text: fmt(n.at) })]))),
    ]),
  ]) : null;
  const reports = details.reports && details.reports.length ? el("section", { class: "card", "aria-labelledby": "rep-h" }, [
    el("h2", { id: "rep-h", text: "What reporters said" }),
  ].concat(details.reports.map((r) => el("div", { class: "report" }, [
    el("p", { class: "muted", text: "Report " + r.reference + " received " + fmt(r.receivedAt) }),
    el("p", {}, ["Address given: ", r.url ? el("span", { class: "mono plain", text: r.url }) : "none"]),
    el("p", { class: "plain", text: r.description ? "Description: " + r.description : "No description (or it held a key and was not kept)." }),
  ])))) : null;
  const anomalies = el("section", { class: "card scroll", "aria-labelledby": "anom-h" }, [
    el("h2", { id: "anom-h", text: "Use of this key since (anomalies)" }),
    details.anomalies.length === 0 ? el("p", { class: "muted", text: "No anomaly recorded for this key." }) : anomalyTable(details.anomalies, false),
  ]);
  const timeline = el("section", { class: "card", "aria-labelledby": "tl-h" }, [
    el("h2", { id: "tl-h", text: "Timeline" }),
    el("ol", { class: "timeline", id: "timeline" }, details.timeline.map((t) => el("li", { class: t.kind + " audit-entry" }, [
      el("span", { class: "muted", text: fmt(t.at) + " · " }),
      el("span", { class: t.kind === "comment" ? "plain" : undefined, text: (t.kind === "comment" ? "Comment: " : "") + t.text }),
      t.actor ? el("span", { class: "muted", text: " — " + t.actor }) : null,
      t.reason ? el("div", { class: "plain muted", text: "Reason: " + t.reason }) : null,
    ]))),
  ]);
  const staleBox = notice && notice.stale ? el("div", { class: "notice", id: "stale", tabindex: "-1", role: "alert" }, [
    el("strong", { text: "This incident changed since you loaded it; nothing was done. It is now " + (STATE_LABELS[notice.stale.current.state] || notice.stale.current.state) + "." }),
    el("ul", {}, notice.stale.changes.map((c) => el("li", { text: fmt(c.at) + " " + c.text + (c.actor ? " — " + c.actor : "") + (c.reason ? " (reason: " + c.reason + ")" : "") }))),
    el("p", { text: "Review it below and act again if still needed." }),
  ]) : null;
  show(main, 
    el("p", {}, [el("a", { href: "#/", text: "← incident queue" })]),
    el("h1", {}, ["Incident ", el("span", { class: "mono", text: incident.redacted })]),
    staleBox,
    readOnlyNote(),
    el("section", { class: "card", "aria-labelledby": "facts-h" }, [
      el("h2", { id: "facts-h", text: "Decision facts" }),
      el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)])),
      el("h2", { text: "Act" }),
      el("label", { for: "reason" }, ["Reason (required, kept in the audit trail)", reason]),
      el("div", { class: "row" }, actions.length ? actions : [el("span", { class: "muted", text: "No action applies in this state." })]),
      status,
      assignForm(incident, details.readAt),
    ]),
    keySection,
    notifications,
    reports,
    anomalies,
    timeline,
    commentForm(id),
  );
  if (notice && notice.text) { status.textContent = notice.text; announce(notice.text); }
  if (notice && notice.stale) { document.getElementById("stale").focus(); announce("This incident changed since you loaded it; nothing was done."); }
  else if (notice && notice.focus) { const target = document.getElementById(notice.focus); target.setAttribute("tabindex", "-1"); target.focus(); }
  return true;
}

function assignForm(incident, readAt) {
  const input = el("input", { id: "assignee", value: incident.assignee || "", size: "16", disabled: !canAct(), autocomplete: "off" });
  return el("form", { class: "row", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await post("/api/incidents/" + incident.incidentId + "/assignee", { assignee: input.value.trim() || null, expectedVersion: incident.version, since: readAt });
      await showIncident(incident.incidentId, { text: input.value.trim() ? "Assigned to " + input.value.trim() + "." : "Unassigned.", focus: "assignee" });
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && error.body.current) return showIncident(incident.incidentId, { stale: error.body });
      failed(error, document.getElementById("action-status"));
    }
  } }, [el("label", { for: "assignee" }, ["Assignee", input]), el("button", { type: "submit", class: "secondary", text: "Assign", disabled: !canAct() })]);
}

function commentForm(id) {
  const text = el("textarea", { id: "comment", rows: "3", disabled: !canAct() });
  const status = el("p", { id: "comment-status", class: "muted" });
  return el("section", { class: "card", "aria-labelledby": "comment-h" }, [
    el("h2", { id: "comment-h", text: "Add a comment" }),
    el("form", { onsubmit: async (event) => {
      event.preventDefault();
      if (!text.value.trim()) { status.textContent = "The comment is empty."; text.focus(); announce(status.textContent); return; }
      try {
        await post("/api/incidents/" + id + "/comments", { comment: text.value.trim() });
        await showIncident(id, { text: "Comment added.", focus: "comment" });
      } catch (error) { failed(error, status); }
    } }, [el("label", { for: "comment" }, ["Comment (plain text, never a raw key)", text]), el("button", { type: "submit", class: "secondary", text: "Add comment", disabled: !canAct() })]),
    status,
  ]);
}

function revokeForm(id) {
  const reason = el("input", { id: "revoke-reason", size: "30", disabled: !canAct(), autocomplete: "off" });
  const status = el("span", { id: "revoke-status", class: "muted" });
  return el("form", { class: "row", onsubmit: async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) { status.textContent = "Give a reason first."; reason.focus(); announce(status.textContent); return; }
    try {
      await post("/api/incidents/" + id + "/revoke-key", { reason: reason.value.trim() });
      await showIncident(id, { text: "Key revoked.", focus: "key-status" });
    } catch (error) { failed(error, status); }
  } }, [el("label", { for: "revoke-reason" }, ["Reason for revoking", reason]), el("button", { type: "submit", class: "secondary", text: "Revoke key", disabled: !canAct() }), status]);
}

// ---- anomalies ----
const anomalyState = { days: 14, type: "", severity: "", keyId: "", project: "", triage: "untriaged", rows: [], cursor: undefined, selected: new Set() };

function anomalyTable(rows, selectable) {
  const head = (selectable ? [""] : []).concat(["When", "Type", "Severity", "Key", "Project", "Network", "Countries", "Count", "Incident", "Triage"]);
  return el("table", { id: selectable ? "anomalies" : "key-anomalies" }, [
    el("thead", {}, [el("tr", {}, head.map((h) => el("th", { scope: "col" }, h ? [h] : [el("span", { class: "visually-hidden", text: "Select" })])))]),
    el("tbody", {}, rows.map((a) => {
      const cells = [
        el("td", { text: fmt(a.windowStart) }),
        el("td", { text: TYPE_LABELS[a.type] || a.type }),
        el("td", { class: "sev-" + a.severity, text: a.severity }),
        el("td", { class: "mono", text: a.keyId || "—" }),
        el("td", { text: a.projectId || "—" }),
        el("td", { class: "mono", text: a.ipPrefix || "—" }),
        el("td", { text: (a.countries || []).join(", ") || "—" }),
        el("td", { text: String(a.count) }),
        el("td", {}, [a.incidentId ? el("a", { href: "#/incident/" + a.incidentId, text: "incident" }) : "—"]),
        el("td", { class: "triage", text: a.triage ? a.triage.state + " by " + a.triage.by + ": " + a.triage.reason : "untriaged" }),
      ];
      if (selectable) {
        const box = el("input", { type: "checkbox", class: "pick", "aria-label": "Select " + (TYPE_LABELS[a.type] || a.type) + " at " + fmt(a.windowStart), disabled: !canAct() });
        box.checked = anomalyState.selected.has(a.id);
        box.addEventListener("change", () => { if (box.checked) anomalyState.selected.add(a.id); else anomalyState.selected.delete(a.id); });
        cells.unshift(el("td", {}, [box]));
      }
      return el("tr", { "data-anomaly": a.id }, cells);
    })),
  ]);
}

function chart(data) {
  const days = [];
  const last = new Date();
  for (let i = data.days - 1; i >= 0; i--) days.push(new Date(last.getTime() - i * 86400000).toISOString().slice(0, 10));
  const byDay = new Map(days.map((d) => [d, {}]));
  for (const c of data.counts) if (byDay.has(c.day)) byDay.get(c.day)[c.type] = c.count;
  const totals = days.map((d) => Object.values(byDay.get(d)).reduce((a, b) => a + b, 0));
  const total = totals.reduce((a, b) => a + b, 0);
  if (total === 0) return el("p", { id: "chart-empty", class: "muted", text: "No anomalies in the last " + data.days + " days. The detector stores one only when traffic to a key looks wrong (new country, fan-out, spike, stuffing, use after a leak); check scanner health if you expected some." });
  const max = Math.max(1, ...totals);
  const W = 720, H = 200, left = 32, bottom = 24, barW = (W - left) / days.length;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + W + " " + (H + bottom));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Anomalies per day, " + total + " in " + data.days + " days; the same figures are in the table below");
  svg.setAttribute("id", "anomaly-chart");
  const add = (name, attrs, text) => {
    const n = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  add("line", { x1: left, y1: H, x2: W, y2: H, stroke: "currentColor" });
  add("text", { x: 0, y: 10 }, String(max));
  add("text", { x: 0, y: H }, "0");
  days.forEach((day, i) => {
    let y = H;
    TYPES.forEach((type, t) => {
      const n = byDay.get(day)[type] || 0;
      if (!n) return;
      const h = (n / max) * (H - 8);
      y -= h;
      add("rect", { x: left + i * barW + 2, y, width: Math.max(1, barW - 4), height: h, fill: COLORS[t], "data-type": type, "data-day": day });
    });
    if (i % Math.ceil(days.length / 7) === 0) add("text", { x: left + i * barW, y: H + 16 }, day.slice(5));
  });
  const legend = el("div", { class: "legend", "aria-hidden": "true" }, TYPES.map((type, t) => el("span", {}, [el("span", { class: "swatch t" + t }), TYPE_LABELS[type]])));
  const tableRows = days.filter((d, i) => totals[i] > 0).map((d) => el("tr", {}, [el("th", { scope: "row", text: d })].concat(TYPES.map((t) => el("td", { text: String(byDay.get(d)[t] || 0) }))).concat([el("td", { text: String(Object.values(byDay.get(d)).reduce((a, b) => a + b, 0)) })])));
  const table = el("div", { class: "scroll" }, [el("table", { id: "chart-data" }, [
    el("caption", { class: "muted", text: "Anomalies per day (days with none left out)" }),
    el("thead", {}, [el("tr", {}, [el("th", { scope: "col", text: "Day" })].concat(TYPES.map((t) => el("th", { scope: "col", text: TYPE_LABELS[t] }))).concat([el("th", { scope: "col", text: "Total" })]))]),
    el("tbody", {}, tableRows),
  ])]);
  return el("div", {}, [svg, legend, table]);
}

async function loadAnomalies(more) {
  const params = { days: String(anomalyState.days), limit: "50" };
  for (const name of ["type", "severity", "keyId", "project", "triage"]) if (anomalyState[name]) params[name] = anomalyState[name];
  if (more && anomalyState.cursor) params.cursor = anomalyState.cursor;
  const page = await api("/api/anomalies?" + new URLSearchParams(params));
  anomalyState.rows = more ? anomalyState.rows.concat(page.anomalies) : page.anomalies;
  anomalyState.cursor = page.cursor;
  if (!more) anomalyState.selected.clear();
}

function renderAnomalyList() {
  const holder = document.getElementById("anomaly-holder");
  const filtered = anomalyState.type || anomalyState.severity || anomalyState.keyId || anomalyState.project || anomalyState.triage;
  const more = anomalyState.cursor ? el("button", { type: "button", id: "anomalies-more", class: "secondary", text: "Show more", onclick: async () => {
    const before = anomalyState.rows.length;
    try { await loadAnomalies(true); } catch (error) { return failed(error, document.getElementById("anomaly-status")); }
    renderAnomalyList();
    const row = document.querySelectorAll("#anomalies tbody tr")[before];
    (row ? row.querySelector("input") : document.getElementById("anomaly-status")).focus();
    announce((anomalyState.rows.length - before) + " more anomalies shown.");
  } }) : null;
  show(holder, 
    el("p", { class: "muted", text: anomalyState.rows.length + " anomalies shown" + (anomalyState.cursor ? " (more below)" : "") + "." }),
    anomalyState.rows.length === 0 ? el("p", { class: "muted", id: "anomalies-empty", text: filtered ? "No anomaly matches these filters in the last " + anomalyState.days + " days." : "No anomalies in the last " + anomalyState.days + " days." }) : el("div", { class: "scroll" }, [anomalyTable(anomalyState.rows, true)]),
    more,
  );
}

async function showAnomalies() {
  document.title = "Anomalies · keywatch";
  const [counts] = await Promise.all([api("/api/anomalies/daily?days=" + anomalyState.days), loadAnomalies(false)]);
  const inputs = {
    type: select("a-type", "Type", [["", "any"]].concat(TYPES.map((t) => [t, TYPE_LABELS[t]])), anomalyState.type),
    severity: select("a-severity", "Severity", [["", "any"], ["high", "high"], ["medium", "medium"], ["low", "low"]], anomalyState.severity),
    triage: select("a-triage", "Triage", [["untriaged", "untriaged"], ["acknowledged", "acknowledged"], ["dismissed", "dismissed"], ["", "any"]], anomalyState.triage),
    days: select("a-days", "Period", [["1", "1 day"], ["7", "7 days"], ["14", "14 days"], ["30", "30 days"], ["90", "90 days"]], String(anomalyState.days)),
  };
  const keyId = el("input", { id: "a-key", value: anomalyState.keyId, size: "18", pattern: "[0-9a-f]{16}", autocomplete: "off" });
  const project = el("input", { id: "a-project", value: anomalyState.project, size: "12", autocomplete: "off" });
  const reason = el("input", { id: "a-reason", size: "30", disabled: !canAct(), autocomplete: "off" });
  const status = el("p", { id: "anomaly-status", class: "muted", tabindex: "-1" });
  const triage = (state) => async (event) => {
    const button = event.currentTarget;
    if (!reason.value.trim()) { status.textContent = "Give a reason first."; status.className = "error"; reason.focus(); announce(status.textContent); return; }
    const ids = [...anomalyState.selected];
    if (ids.length === 0) { status.textContent = "Select anomalies first."; announce(status.textContent); return; }
    try {
      const answer = await post("/api/anomalies/triage", { ids, state, reason: reason.value.trim() });
      const done = answer.results.filter((r) => r.outcome === "done").length;
      for (const row of anomalyState.rows) if (anomalyState.selected.has(row.id)) row.triage = { state, by: me.actor, at: new Date().toISOString(), reason: reason.value.trim() };
      anomalyState.selected.clear();
      renderAnomalyList();
      const message = (state === "acknowledged" ? "Acknowledged " : "Dismissed ") + done + " of " + ids.length + " anomalies.";
      status.textContent = message;
      status.className = "muted";
      announce(message);
    } catch (error) { failed(error, status); }
    button.focus();
  };
  show(main, 
    el("h1", { text: "Anomalies" }),
    readOnlyNote(),
    el("section", { class: "card", "aria-labelledby": "chart-h" }, [el("h2", { id: "chart-h", text: "Per day (" + anomalyState.days + " days)" }), chart(counts)]),
    el("section", { class: "card", "aria-labelledby": "list-h" }, [
      el("h2", { id: "list-h", text: "Triage" }),
      el("form", { class: "row", role: "search", onsubmit: async (event) => {
        event.preventDefault();
        anomalyState.type = document.getElementById("a-type").value;
        anomalyState.severity = document.getElementById("a-severity").value;
        anomalyState.triage = document.getElementById("a-triage").value;
        anomalyState.days = Number(document.getElementById("a-days").value);
        anomalyState.keyId = keyId.value.trim();
        anomalyState.project = project.value.trim();
        try { await showAnomalies(); } catch (error) { return failed(error, status); }
        document.getElementById("a-apply").focus();
        announce(anomalyState.rows.length + " anomalies shown.");
      } }, [inputs.type, inputs.severity, el("label", { for: "a-key" }, ["Key id", keyId]), el("label", { for: "a-project" }, ["Project", project]), inputs.triage, inputs.days, el("button", { type: "submit", id: "a-apply", text: "Apply" })]),
      el("div", { class: "row" }, [
        el("label", { for: "a-reason" }, ["Reason (required)", reason]),
        el("button", { type: "button", id: "a-ack", text: "Acknowledge selected", disabled: !canAct(), onclick: triage("acknowledged") }),
        el("button", { type: "button", id: "a-dismiss", class: "secondary", text: "Dismiss selected", disabled: !canAct(), onclick: triage("dismissed") }),
      ]),
      status,
      el("div", { id: "anomaly-holder" }),
    ]),
  );
  renderAnomalyList();
}

// ---- routing ----
async function route() {
  const incident = /^#\/incident\/([A-Za-z0-9_]+)$/.exec(location.hash);
  try {
    if (incident) await showIncident(incident[1]);
    else if (location.hash === "#/anomalies") await showAnomalies();
    else if (location.hash === "#/health") await showHealth();
    else await showQueue();
  } catch (error) {
    if (error instanceof AuthError) return signInPage("Signed out", error.message + " Sign in again to go on.");
    show(main, el("p", { class: "error", role: "alert", text: "Could not load: " + error.message }));
  }
  main.focus();
}

async function boot() {
  sessionStorage.removeItem("keywatch.token"); // older versions could leave "undefined" here
  config = await fetch("/console/config.json").then((r) => r.json());
  if (config.auth === "cognito") {
    const code = new URLSearchParams(location.search).get("code");
    const oauthError = new URLSearchParams(location.search).get("error");
    if (oauthError) { history.replaceState(null, "", "/console"); return signInPage("Sign-in failed", "The sign-in service answered: " + oauthError + "."); }
    if (code) {
      const problem = await completeSignIn(code);
      if (problem) return signInPage("Sign-in failed", problem);
    } else if (!storedToken()) return startSignIn();
  }
  try { me = await api("/api/me"); } catch (error) {
    if (error instanceof AuthError) return signInPage("Signed out", error.message + " Sign in again to go on.");
    me = { actor: "", canAct: false };
  }
  document.getElementById("who").textContent = (config.auth === "cognito" ? me.actor.replace(/^user:/, "") : "local mode (no sign-in)") + (me.canAct ? " · responder" : " · read-only");
  window.addEventListener("hashchange", route);
  await route();
}

await boot();
`;
