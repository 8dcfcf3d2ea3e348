/**
 * The console's static page, script and style. Kept as strings so esbuild bundles them into the
 * Lambda; the page has no inline script or style, so the CSP can forbid both.
 */
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>keywatch console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/app.css">
<script type="module" src="/console/app.js"></script>
</head>
<body>
<header class="bar"><a href="#/" class="brand">keywatch</a><span class="tag">security console</span><span id="who" class="who"></span></header>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<noscript><p>The console needs JavaScript; the same data is at /api/incidents.</p></noscript>
</body>
</html>
`;

export const CONSOLE_CSS = `:root{--fg:#1b1f24;--muted:#5b6470;--bg:#f6f7f9;--card:#fff;--line:#d8dce2;--accent:#0b5cad;--high:#b42318;--medium:#b54708;--low:#027a48}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
.bar{display:flex;gap:.75rem;align-items:baseline;padding:.75rem 1.25rem;background:#111827;color:#fff}
.brand{color:#fff;font-weight:700;text-decoration:none}.tag{color:#cbd5e1}.who{margin-left:auto;color:#cbd5e1}
main{max-width:1100px;margin:0 auto;padding:1rem 1.25rem}main:focus{outline:none}
h1{font-size:1.4rem;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin-bottom:1rem;overflow-x:auto}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
a{color:var(--accent)}a:focus-visible,button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.pill{display:inline-block;padding:0 .5rem;border-radius:999px;font-size:.8rem;border:1px solid var(--line);background:#f1f5f9}
.sev-high{color:var(--high);font-weight:600}.sev-medium{color:var(--medium);font-weight:600}.sev-low{color:var(--low)}
.muted{color:var(--muted)}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.actions{display:flex;gap:.5rem;flex-wrap:wrap}button{font:inherit;padding:.4rem .9rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}.error{color:var(--high)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dt{color:var(--muted)}dd{margin:0}
.legend{display:flex;gap:1rem;flex-wrap:wrap;font-size:.85rem}.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:-1px}
svg text{font:11px system-ui,sans-serif;fill:var(--muted)}
.t0{background:#0b5cad}.t1{background:#7a5af8}.t2{background:#f79009}.t3{background:#d92d20}.t4{background:#12b76a}
`;

export const CONSOLE_JS = `const TRANSITIONS = {
  acknowledge: ["open", "notified"],
  resolve: ["open", "notified", "acknowledged"],
  false_positive: ["open", "notified", "acknowledged"],
  reopen: ["resolved", "false_positive"],
};
const LABELS = { acknowledge: "Acknowledge", resolve: "Resolve", false_positive: "Mark false positive", reopen: "Reopen" };
const TYPES = ["new_country", "ip_fanout", "rate_spike", "credential_stuffing", "use_after_leak"];
const COLORS = ["#0b5cad", "#7a5af8", "#f79009", "#d92d20", "#12b76a"];
const main = document.getElementById("main");
let token = null;

function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "text") node.textContent = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value);
  }
  for (const child of children || []) node.append(child);
  return node;
}

function safeLink(url, text) {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "https:" || parsed.protocol === "http:")
      return el("a", { href: parsed.href, rel: "noopener noreferrer", target: "_blank", text: text || parsed.href });
  } catch {}
  return el("span", { class: "mono", text: text || String(url) });
}

async function api(path, init) {
  const headers = Object.assign({ accept: "application/json" }, (init && init.headers) || {});
  if (token) headers.authorization = "Bearer " + token;
  const response = await fetch(path, Object.assign({}, init, { headers }));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || "HTTP " + response.status);
  return body;
}

function fmt(iso) {
  return iso ? iso.replace("T", " ").replace(/\\.\\d+Z$/, "Z") : "";
}

function incidentTable(incidents) {
  if (incidents.length === 0) return el("p", { class: "muted", text: "None." });
  const rows = incidents.map((i) =>
    el("tr", { "data-incident": i.incidentId }, [
      el("td", {}, [el("a", { href: "#/incident/" + i.incidentId, class: "mono", text: i.redacted })]),
      el("td", {}, [el("span", { class: "pill state", text: i.state })]),
      el("td", { class: "sev-" + i.severity, text: i.severity }),
      el("td", { text: (i.sources || []).join(", ") }),
      el("td", { class: "occurrences", text: String(i.occurrenceCount) }),
      el("td", { text: i.projectId || "" }),
      el("td", { text: fmt(i.updatedAt) }),
    ]),
  );
  const head = ["Key", "State", "Severity", "Sources", "Occurrences", "Project", "Updated"].map((h) => el("th", { text: h }));
  return el("table", {}, [el("thead", {}, [el("tr", {}, head)]), el("tbody", {}, rows)]);
}

function chart(data) {
  const days = [];
  const last = new Date();
  for (let i = data.days - 1; i >= 0; i--) days.push(new Date(last.getTime() - i * 86400000).toISOString().slice(0, 10));
  const byDay = new Map(days.map((d) => [d, {}]));
  for (const c of data.counts) if (byDay.has(c.day)) byDay.get(c.day)[c.type] = c.count;
  const totals = days.map((d) => Object.values(byDay.get(d)).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const W = 720, H = 200, left = 32, bottom = 24, barW = (W - left) / days.length;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + W + " " + (H + bottom));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Anomalies per type per day");
  svg.setAttribute("id", "anomaly-chart");
  const add = (name, attrs, text) => {
    const n = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  add("line", { x1: left, y1: H, x2: W, y2: H, stroke: "#d8dce2" });
  add("text", { x: 0, y: 10 }, String(max));
  add("text", { x: 0, y: H }, "0");
  days.forEach((day, i) => {
    let y = H;
    TYPES.forEach((type, t) => {
      const n = byDay.get(day)[type] || 0;
      if (!n) return;
      const h = (n / max) * (H - 8);
      y -= h;
      const rect = add("rect", { x: left + i * barW + 2, y, width: Math.max(1, barW - 4), height: h, fill: COLORS[t], "data-type": type, "data-day": day });
      const title = document.createElementNS(ns, "title");
      title.textContent = day + " " + type + ": " + n;
      rect.append(title);
    });
    if (i % Math.ceil(days.length / 7) === 0) add("text", { x: left + i * barW, y: H + 16 }, day.slice(5));
  });
  const legend = el("div", { class: "legend" }, TYPES.map((type, t) =>
    el("span", {}, [el("span", { class: "swatch t" + t }), type])));
  return el("div", {}, [svg, legend]);
}

async function showList() {
  document.title = "Incidents · keywatch";
  const [leaks, unknown, anomalies] = await Promise.all([
    api("/api/incidents?kind=leaked_key"),
    api("/api/incidents?kind=unknown_key"),
    api("/api/anomalies/daily?days=14"),
  ]);
  main.replaceChildren(
    el("h1", { text: "Incidents" }),
    el("section", { class: "card", "aria-labelledby": "leaks-h" }, [el("h2", { id: "leaks-h", text: "Leaked keys" }), incidentTable(leaks.incidents)]),
    el("section", { class: "card", "aria-labelledby": "anom-h" }, [el("h2", { id: "anom-h", text: "Anomalies per day (14 days)" }), chart(anomalies)]),
    el("section", { class: "card", "aria-labelledby": "unk-h" }, [el("h2", { id: "unk-h", text: "Unknown-key findings" }), incidentTable(unknown.incidents)]),
  );
}

async function showIncident(id) {
  const { incident, occurrences, audit } = await api("/api/incidents/" + encodeURIComponent(id));
  document.title = incident.redacted + " · keywatch";
  const status = el("p", { role: "status", id: "action-status" });
  const actions = Object.keys(TRANSITIONS)
    .filter((a) => TRANSITIONS[a].includes(incident.state))
    .map((action) =>
      el("button", {
        type: "button",
        class: action === "acknowledge" ? "" : "secondary",
        "data-action": action,
        text: LABELS[action],
        onclick: async () => {
          try {
            await api("/api/incidents/" + encodeURIComponent(id) + "/actions", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ action }),
            });
            await showIncident(id);
            document.getElementById("action-status").textContent = LABELS[action] + ": done";
          } catch (error) {
            status.textContent = error.message;
            status.className = "error";
          }
        },
      }),
    );
  const occRows = occurrences.map((o) =>
    el("tr", {}, [
      el("td", { text: o.source }),
      el("td", {}, [o.location.url ? safeLink(o.location.url) : el("span", { class: "mono", text: [o.location.repo, o.location.path].filter(Boolean).join(":") || o.location.kind || "" })]),
      el("td", { text: o.location.line ? String(o.location.line) : "" }),
      el("td", { text: fmt(o.seenAt) }),
    ]),
  );
  const auditRows = audit.map((a) =>
    el("tr", { class: "audit-entry" }, [
      el("td", { text: fmt(a.at) }),
      el("td", { text: a.action }),
      el("td", { text: (a.from ? a.from + " → " : "") + a.to }),
      el("td", { text: a.actor }),
    ]),
  );
  const th = (names) => el("thead", {}, [el("tr", {}, names.map((n) => el("th", { text: n })))]);
  main.replaceChildren(
    el("p", {}, [el("a", { href: "#/", text: "← all incidents" })]),
    el("h1", {}, ["Incident ", el("span", { class: "mono", text: incident.redacted })]),
    el("section", { class: "card" }, [
      el("dl", { class: "facts" }, [
        el("dt", { text: "State" }), el("dd", {}, [el("span", { class: "pill", id: "incident-state", text: incident.state })]),
        el("dt", { text: "Severity" }), el("dd", { class: "sev-" + incident.severity, text: incident.severity }),
        el("dt", { text: "Kind" }), el("dd", { text: incident.kind }),
        el("dt", { text: "Project" }), el("dd", { text: incident.projectId || "—" }),
        el("dt", { text: "Sources" }), el("dd", { text: incident.sources.join(", ") }),
        el("dt", { text: "Occurrences" }), el("dd", { text: String(incident.occurrenceCount) }),
        el("dt", { text: "Opened" }), el("dd", { text: fmt(incident.openedAt) }),
        el("dt", { text: "Key id" }), el("dd", { class: "mono", text: incident.keyId }),
      ]),
      el("h2", { text: "Actions" }),
      el("div", { class: "actions" }, actions.length ? actions : [el("span", { class: "muted", text: "No action applies in this state." })]),
      status,
    ]),
    el("section", { class: "card" }, [el("h2", { text: "Occurrences" }), el("table", {}, [th(["Source", "Where", "Line", "Seen"]), el("tbody", {}, occRows)])]),
    el("section", { class: "card" }, [el("h2", { text: "Audit trail" }), el("table", { id: "audit" }, [th(["When", "Action", "State", "Who"]), el("tbody", {}, auditRows)])]),
  );
}

async function route() {
  const match = /^#\\/incident\\/([A-Za-z0-9_]+)$/.exec(location.hash);
  try {
    if (match) await showIncident(match[1]);
    else await showList();
  } catch (error) {
    main.replaceChildren(el("p", { class: "error", role: "alert", text: "Could not load: " + error.message }));
  }
  main.focus();
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
}

// Deployed: Cognito hosted UI, authorization code + PKCE; the access token lives in this tab only.
async function signIn(config) {
  token = sessionStorage.getItem("keywatch.token");
  if (token) return;
  const redirect = location.origin + "/console";
  const code = new URLSearchParams(location.search).get("code");
  const verifier = sessionStorage.getItem("keywatch.verifier");
  if (code && verifier) {
    const response = await fetch(config.domain + "/oauth2/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", client_id: config.clientId, code, redirect_uri: redirect, code_verifier: verifier }),
    });
    const tokens = await response.json();
    token = tokens.access_token;
    sessionStorage.setItem("keywatch.token", token);
    history.replaceState(null, "", "/console");
    return;
  }
  const newVerifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  sessionStorage.setItem("keywatch.verifier", newVerifier);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(newVerifier)));
  location.assign(config.domain + "/oauth2/authorize?" + new URLSearchParams({ response_type: "code", client_id: config.clientId, redirect_uri: redirect, scope: "openid", code_challenge_method: "S256", code_challenge: challenge }));
  await new Promise(() => {});
}

const config = await fetch("/console/config.json").then((r) => r.json());
if (config.auth === "cognito") await signIn(config);
document.getElementById("who").textContent = config.auth === "cognito" ? "signed in" : "local mode (no sign-in)";
window.addEventListener("hashchange", route);
await route();
`;
