import type { FindingSource, Location } from "./finding.js";
import type { AuditEntry, Incident, IncidentKind, IncidentState, Occurrence, Severity } from "./incident.js";

/** What the queue shows by default: work still to do. */
export const OPEN_WORK_STATES = [
  "open",
  "notified",
  "acknowledged",
] as const satisfies readonly IncidentState[];

export const QUEUE_SORTS = ["updated", "opened", "severity"] as const;
export type QueueSort = (typeof QUEUE_SORTS)[number];

/** Descending sort ranks: high first. Part of the severity sort key, so it must stay one digit. */
export const SEVERITY_RANK: Record<Severity, number> = { high: 3, medium: 2, low: 1 };

/** What an analyst added to an incident beyond its state: who has it, why it was closed. */
export interface QueueIncident extends Incident {
  assignee?: string;
  /** The reason given with the latest acknowledge / resolve / false-positive / reopen. */
  triageReason?: string;
}

export interface QueueQuery {
  kind: IncidentKind;
  /** Partitions to merge; the queue's default is OPEN_WORK_STATES. */
  states: readonly IncidentState[];
  sort: QueueSort;
  severity?: Severity;
  source?: FindingSource;
  projectId?: string;
  limit: number;
  cursor?: string;
}

export interface QueuePage {
  incidents: QueueIncident[];
  /** Present while anything is left: the list is never cut off silently. */
  cursor?: string;
}

export interface SearchResult {
  incidents: QueueIncident[];
  /** True when more incidents matched than were returned. */
  truncated: boolean;
}

/** An audit entry of the console's own actions: the state moves plus assignment and comments. */
export type QueueAuditEntry = Omit<AuditEntry, "action" | "to"> & {
  action: AuditEntry["action"] | "assigned" | "commented";
  to?: IncidentState;
  /** Why (required for acknowledge / resolve / false positive / reopen from the console). */
  reason?: string;
  assignee?: string;
  comment?: string;
  /** The incident version the action applied to: stale tabs are told what changed after it. */
  version?: number;
};

export interface QueueIncidentDetails {
  incident: QueueIncident;
  occurrences: Occurrence[];
  audit: QueueAuditEntry[];
}

/** The console's port over incidents, beside IncidentRepository (same table, same adapter). */
export interface IncidentQueue {
  queue(query: QueueQuery): Promise<QueuePage>;
  /** Incidents per state for one kind (COUNT queries on the state index). */
  countByState(kind: IncidentKind): Promise<Record<IncidentState, number>>;
  /** Exact-term search over the terms `searchTermsFor` wrote; newest first. */
  search(terms: string[], limit: number): Promise<SearchResult>;
  /** Sets (or clears) the assignee if the incident is still at `current.version`. */
  assign(current: Incident, assignee: string | undefined, audit: QueueAuditEntry): Promise<boolean>;
  comment(audit: QueueAuditEntry): Promise<void>;
  queueDetails(incidentId: string): Promise<QueueIncidentDetails | undefined>;
}

/** DynamoDB key attributes are bounded; long URLs are matched on their first characters. */
const MAX_TERM_CHARS = 400;
const clip = (term: string) => term.slice(0, MAX_TERM_CHARS);

/** Term-normalised forms: one function writes them, the same one reads the query. */
function repoTerm(repo: string): string {
  return `repo:${repo.toLowerCase()}`;
}

function urlTerm(url: URL): string {
  const path = url.pathname.replace(/\/+$/, "");
  return `url:${url.host.toLowerCase()}${path}`;
}

/** `owner/name` of a github.com URL, where the URL names a repository. */
function githubRepoOf(url: URL): string | undefined {
  if (url.hostname.toLowerCase() !== "github.com") return undefined;
  const [owner, name] = url.pathname.split("/").filter(Boolean);
  return owner && name ? `${owner}/${name}` : undefined;
}

function parseUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Redacted keys are written with "…"; people type "...". */
function redactedTerm(redacted: string): string {
  return `redacted:${redacted.replace("...", "…")}`;
}

/** Search terms an incident is found by: its key id, redacted key and project. */
export function incidentTerms(incident: Pick<Incident, "keyId" | "redacted" | "projectId">): string[] {
  return [
    `keyid:${incident.keyId.toLowerCase()}`,
    redactedTerm(incident.redacted),
    ...(incident.projectId ? [`project:${incident.projectId}`] : []),
  ].map(clip);
}

/** Search terms of one place a key was seen: its repository and URL. */
export function locationTerms(location: Location): string[] {
  const terms = new Set<string>();
  if (location.repo) terms.add(repoTerm(location.repo));
  const url = location.url ? parseUrl(location.url) : undefined;
  if (url) {
    terms.add(urlTerm(url));
    const repo = githubRepoOf(url);
    if (repo) terms.add(repoTerm(repo));
  }
  return [...terms].map(clip);
}

const KEY_ID = /^[0-9a-f]{16}$/i;
const KEY_HASH = /^[0-9a-f]{64}$/i;
const REDACTED = /^[a-z]{2,10}_[0-9A-Za-z]{4}(?:…|\.\.\.)[0-9A-Za-z]{4}$/;

/** The terms a typed query may mean; the adapter looks each up and merges the hits. */
export function queryTerms(query: string): string[] {
  return termsOf(query).map(clip);
}

function termsOf(query: string): string[] {
  const text = query.trim();
  if (!text) return [];
  if (KEY_HASH.test(text)) return [`keyid:${text.slice(0, 16).toLowerCase()}`];
  if (KEY_ID.test(text)) return [`keyid:${text.toLowerCase()}`];
  if (REDACTED.test(text)) return [redactedTerm(text)];
  const url = parseUrl(text);
  if (url) {
    const repo = githubRepoOf(url);
    const exact = urlTerm(url);
    // A bare repository URL means the repository; a deeper one the page itself.
    return repo && exact === urlTerm(new URL(`https://github.com/${repo}`)) ? [repoTerm(repo)] : [exact];
  }
  const terms = [`project:${text}`];
  if (/^[\w.-]+\/[\w.-]+$/.test(text)) terms.push(repoTerm(text));
  return terms;
}
