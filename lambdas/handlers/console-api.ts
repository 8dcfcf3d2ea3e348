import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { z } from "zod";
import { type Clock, systemClock } from "../adapters/clock.js";
import { KeyPrefixesSchema, readEnv, tableNamesFromEnv } from "../adapters/config.js";
import { createConsoleAnomalies } from "../adapters/console-anomalies.js";
import { createLedgerReader, type ReadLedger } from "../adapters/console-notifications.js";
import { createDocumentClient } from "../adapters/dynamodb-client.js";
import { InvalidCursorError } from "../adapters/dynamodb-cursor.js";
import { createIncidentRepository } from "../adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../adapters/dynamodb-key-repository.js";
import { createLogger } from "../adapters/logger.js";
import { createReportRepository } from "../adapters/report-repository.js";
import { readScannerHealth, type ScannerHealth } from "../adapters/scanner-health.js";
import { AnomalyTypeSchema } from "../domain/anomaly/anomaly.js";
import type { ConsoleAnomalies } from "../domain/anomaly-counts.js";
import { FindingSourceSchema } from "../domain/finding.js";
import {
  INCIDENT_STATES,
  type Incident,
  type IncidentRepository,
  type IncidentState,
  TRANSITIONS,
  type TransitionAction,
} from "../domain/incident.js";
import {
  type IncidentQueue,
  OPEN_WORK_STATES,
  QUEUE_SORTS,
  type QueueAuditEntry,
  queryTerms,
} from "../domain/incident-queue.js";
import {
  expectedNotifications,
  incidentTimeline,
  type NotificationRecord,
} from "../domain/incident-timeline.js";
import type { KeyRepository } from "../domain/key-record.js";
import { countKeyShapedTokens } from "../domain/report.js";
import { reportReference } from "../domain/report-reference.js";
import {
  IncidentNotFoundError,
  StaleIncidentError,
  TransitionNotAllowedError,
  transitionIncident,
} from "../domain/transition-incident.js";
import { assignIncident, commentOnIncident } from "../domain/triage-incident.js";

export interface ConsoleApiDeps {
  incidents: IncidentRepository & IncidentQueue;
  anomalies: ConsoleAnomalies;
  clock?: Clock;
  /** Who is acting, for the audit trail: the JWT subject when deployed, the local operator locally. */
  actorOf(event: APIGatewayProxyEventV2): string | undefined;
  /** Whether that person may change anything (a responder); everyone else signed in reads. */
  canAct?(event: APIGatewayProxyEventV2): boolean;
  /** The incident page's decision facts; each is left out when not wired. */
  keys?: Pick<KeyRepository, "get" | "revoke">;
  ledger?: ReadLedger;
  reportOf?: (
    reportId: string,
  ) => Promise<{ url?: string; description?: string; receivedAt: string } | undefined>;
  scannerHealth?: () => Promise<ScannerHealth[]>;
  /** Free text (reasons, comments) holding a key-shaped token is refused: only hashes are stored. */
  keyPrefixes?: readonly string[];
  log?: (entry: Record<string, unknown>) => void;
}

const IncidentIdSchema = z.string().regex(/^inc_[0-9a-f]{20}$/, "expected an incident id");

const StatesSchema = z
  .string()
  .max(100)
  .transform((text, ctx): IncidentState[] => {
    if (text === "all") return [...INCIDENT_STATES];
    if (text === "open_work") return [...OPEN_WORK_STATES];
    const states = [...new Set(text.split(","))];
    for (const state of states)
      if (!(INCIDENT_STATES as readonly string[]).includes(state)) {
        ctx.addIssue({ code: "custom", message: `unknown state ${state.slice(0, 20)}` });
        return z.NEVER;
      }
    return states as IncidentState[];
  });

const ListQuerySchema = z
  .object({
    kind: z.enum(["leaked_key", "unknown_key"]).default("leaked_key"),
    /** One state, a comma list, `open_work` or `all` (the default). */
    state: StatesSchema.optional(),
    sort: z.enum(QUEUE_SORTS).default("updated"),
    severity: z.enum(["low", "medium", "high"]).optional(),
    source: FindingSourceSchema.optional(),
    project: z.string().min(1).max(128).optional(),
    q: z.string().trim().min(1).max(2048).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z
      .string()
      .max(400)
      .regex(/^[A-Za-z0-9_-]+$/)
      .optional(),
  })
  .strict();

const CountsQuerySchema = z
  .object({ kind: z.enum(["leaked_key", "unknown_key"]).default("leaked_key") })
  .strict();

const ReasonSchema = z.string().trim().min(1, "a reason is required").max(500);

const ActionSchema = z
  .object({
    action: z.enum(Object.keys(TRANSITIONS) as [TransitionAction, ...TransitionAction[]]),
    reason: ReasonSchema,
    expectedVersion: z.number().int().nonnegative().optional(),
    /** The `readAt` of the answer the tab acted on: what changed after it is reported. */
    since: z.string().datetime().optional(),
  })
  .strict();

const BulkSchema = z
  .object({
    action: z.enum(Object.keys(TRANSITIONS) as [TransitionAction, ...TransitionAction[]]),
    reason: ReasonSchema,
    incidents: z
      .array(
        z
          .object({ id: IncidentIdSchema, expectedVersion: z.number().int().nonnegative().optional() })
          .strict(),
      )
      .min(1)
      .max(100),
    since: z.string().datetime().optional(),
  })
  .strict();

const AssignSchema = z
  .object({
    assignee: z
      .string()
      .trim()
      .max(128)
      .regex(/^[\w.@+-]*$/, "a user name: letters, digits and . _ @ + -")
      .nullable(),
    expectedVersion: z.number().int().nonnegative().optional(),
    since: z.string().datetime().optional(),
  })
  .strict();

const CommentSchema = z
  .object({ comment: z.string().trim().min(1, "the comment is empty").max(2000) })
  .strict();
const RevokeSchema = z.object({ reason: ReasonSchema }).strict();

const AnomalyQuerySchema = z.object({ days: z.coerce.number().int().min(1).max(90).default(14) }).strict();

const AnomalyListSchema = z
  .object({
    days: z.coerce.number().int().min(1).max(90).default(14),
    type: AnomalyTypeSchema.optional(),
    severity: z.enum(["low", "medium", "high"]).optional(),
    keyId: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .optional(),
    project: z.string().min(1).max(128).optional(),
    triage: z.enum(["untriaged", "acknowledged", "dismissed"]).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z
      .string()
      .max(1200)
      .regex(/^[A-Za-z0-9_-]+$/)
      .optional(),
  })
  .strict();

const AnomalyTriageSchema = z
  .object({
    ids: z.array(z.string().min(1).max(1200)).min(1).max(100),
    state: z.enum(["acknowledged", "dismissed"]),
    reason: ReasonSchema,
  })
  .strict();

/** Console bodies are small; anything bigger is refused before parsing. */
const MAX_ACTION_BODY = 16 * 1024;

const HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: HEADERS, body: JSON.stringify(body) };
}

function invalid(error: z.ZodError): APIGatewayProxyStructuredResultV2 {
  return json(400, {
    message: error.issues[0]?.message ? `invalid request: ${error.issues[0].message}` : "invalid request",
    issues: error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
  });
}

function bodyText(event: APIGatewayProxyEventV2): string | undefined {
  if (event.body === undefined) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; answer: APIGatewayProxyStructuredResultV2 };

/**
 * The security team's JSON API: the incident queue (counts, filters, sort, search, cursor
 * paging), one incident with its decision facts and timeline, actions (single and bulk, with
 * a reason, stale-tab checked), assignment, comments, anomaly triage and scanner health.
 * CSRF: writes require a JSON body (a cross-site form can't send one without a CORS
 * preflight, which is never granted); deployed, every route also needs a bearer JWT.
 */
export function makeConsoleApiHandler(deps: ConsoleApiDeps) {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? (() => {});
  const canAct = deps.canAct ?? (() => true);
  const prefixes = deps.keyPrefixes ?? ["smk_"];

  /** Validates a write: responder role, JSON body, schema, and no key-shaped text. */
  function writeBody<T>(event: APIGatewayProxyEventV2, schema: z.ZodType<T>): Parsed<T & { actor: string }> {
    const actor = deps.actorOf(event);
    if (!actor) return { ok: false, answer: json(401, { message: "unauthenticated" }) };
    if (!canAct(event))
      return {
        ok: false,
        answer: json(403, { message: "read-only: your account is not in the responders group" }),
      };
    const type = event.headers?.["content-type"] ?? "";
    if (!/^application\/json\b/i.test(type))
      return { ok: false, answer: json(415, { message: "expected application/json" }) };
    const text = bodyText(event) ?? "";
    if (text.length > MAX_ACTION_BODY) return { ok: false, answer: json(413, { message: "body too large" }) };
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return { ok: false, answer: json(400, { message: "body is not JSON" }) };
    }
    const body = schema.safeParse(raw);
    if (!body.success) return { ok: false, answer: invalid(body.error) };
    const free = [(raw as { reason?: unknown }).reason, (raw as { comment?: unknown }).comment];
    if (free.some((value) => typeof value === "string" && countKeyShapedTokens(value, prefixes) > 0))
      return {
        ok: false,
        answer: json(400, {
          message: "the text holds what looks like a key: write its redacted form instead",
        }),
      };
    return { ok: true, value: { ...(body.data as T), actor } };
  }

  /** What happened after the tab's read: entries that carry a version by it, the others by time. */
  async function changesSince(error: StaleIncidentError, since: string | undefined) {
    const details = await deps.incidents.queueDetails(error.current.incidentId);
    if (!details) return [];
    const after = since ?? "";
    return incidentTimeline(
      details.occurrences.filter((o) => o.recordedAt >= after),
      details.audit.filter((a) =>
        a.version !== undefined ? a.version >= error.expectedVersion : a.at >= after,
      ),
      [],
    );
  }

  async function stale(error: StaleIncidentError, since: string | undefined) {
    return {
      message: "this incident changed since you loaded it: review the current state and act again",
      current: error.current,
      changes: await changesSince(error, since),
      readAt: clock.now().toISOString(),
    };
  }

  async function list(event: APIGatewayProxyEventV2) {
    const query = ListQuerySchema.safeParse(event.queryStringParameters ?? {});
    if (!query.success) return invalid(query.error);
    const q = query.data;
    const states = q.state ?? [...INCIDENT_STATES];
    const readAt = clock.now().toISOString();
    try {
      const page = await (q.q
        ? deps.incidents.search(queryTerms(q.q), 200).then((found) => {
            const matching = found.incidents.filter(
              (i) =>
                i.kind === q.kind &&
                states.includes(i.state) &&
                (!q.severity || i.severity === q.severity) &&
                (!q.source || i.sources.includes(q.source)) &&
                (!q.project || i.projectId === q.project),
            );
            return { incidents: matching, truncated: found.truncated };
          })
        : deps.incidents.queue({
            kind: q.kind,
            states,
            sort: q.sort,
            limit: q.limit,
            ...(q.severity ? { severity: q.severity } : {}),
            ...(q.source ? { source: q.source } : {}),
            ...(q.project ? { projectId: q.project } : {}),
            ...(q.cursor ? { cursor: q.cursor } : {}),
          }));
      return json(200, { ...page, readAt });
    } catch (error) {
      if (error instanceof InvalidCursorError) return json(400, { message: "invalid cursor" });
      throw error;
    }
  }

  /** Per-state counts apart from the list: counting reads every incident of a kind, listing 50. */
  async function counts(event: APIGatewayProxyEventV2) {
    const query = CountsQuerySchema.safeParse(event.queryStringParameters ?? {});
    if (!query.success) return invalid(query.error);
    return json(200, { kind: query.data.kind, counts: await deps.incidents.countByState(query.data.kind) });
  }

  async function details(event: APIGatewayProxyEventV2) {
    const id = IncidentIdSchema.safeParse(event.pathParameters?.id);
    if (!id.success) return invalid(id.error);
    const readAt = clock.now().toISOString();
    const found = await deps.incidents.queueDetails(id.data);
    if (!found) return json(404, { message: "incident not found" });
    const { incident, occurrences, audit } = found;
    const expected = expectedNotifications(incident, occurrences);
    const [key, ledger, reports, anomalies] = await Promise.all([
      incident.kind === "leaked_key" && deps.keys ? deps.keys.get(incident.keyHash) : undefined,
      deps.ledger ? deps.ledger(expected.map((n) => n.id)) : undefined,
      deps.reportOf
        ? Promise.all(
            [...new Set(occurrences.flatMap((o) => (o.reportId ? [o.reportId] : [])))]
              .slice(0, 20)
              .map(async (reportId) => ({ reportId, report: await deps.reportOf?.(reportId) })),
          )
        : undefined,
      deps.anomalies.forKey(incident.keyId, 50),
    ]);
    const notifications: NotificationRecord[] | undefined = ledger
      ? expected.map((n) => {
          const entry = ledger.find((l) => l.id === n.id);
          return {
            kind: n.kind,
            opening: n.opening,
            to: n.to,
            status: entry?.status ?? "not_sent",
            ...(entry ? { at: entry.at } : {}),
          };
        })
      : undefined;
    return json(200, {
      incident,
      occurrences,
      audit,
      ...(key
        ? {
            key: {
              status: key.status,
              redacted: key.redacted,
              projectId: key.projectId,
              revokedAt: key.revokedAt,
            },
          }
        : {}),
      ...(notifications ? { notifications } : {}),
      ...(reports
        ? {
            reports: reports.flatMap(({ reportId, report }) =>
              report
                ? [
                    {
                      reportId,
                      reference: reportReference(reportId),
                      receivedAt: report.receivedAt,
                      ...(report.url ? { url: report.url } : {}),
                      ...(report.description ? { description: report.description } : {}),
                    },
                  ]
                : [],
            ),
          }
        : {}),
      anomalies,
      timeline: incidentTimeline(occurrences, audit, notifications ?? []),
      readAt,
    });
  }

  async function act(event: APIGatewayProxyEventV2) {
    const id = IncidentIdSchema.safeParse(event.pathParameters?.id);
    if (!id.success) return invalid(id.error);
    const body = writeBody(event, ActionSchema);
    if (!body.ok) return body.answer;
    const { action, reason, expectedVersion, since, actor } = body.value;
    try {
      const incident = await transitionIncident(
        id.data,
        action,
        actor,
        { incidents: deps.incidents, clock },
        {
          ...(reason !== undefined ? { reason } : {}),
          ...(expectedVersion !== undefined ? { expectedVersion } : {}),
        },
      );
      log({ message: "incident transition", incidentId: id.data, action, to: incident.state });
      return json(200, { incident, readAt: clock.now().toISOString() });
    } catch (error) {
      if (error instanceof IncidentNotFoundError) return json(404, { message: "incident not found" });
      if (error instanceof StaleIncidentError) return json(409, await stale(error, since));
      if (error instanceof TransitionNotAllowedError) return json(409, { message: error.message });
      throw error;
    }
  }

  async function bulk(event: APIGatewayProxyEventV2) {
    const body = writeBody(event, BulkSchema);
    if (!body.ok) return body.answer;
    const { action, reason, incidents, since, actor } = body.value;
    const results: Record<string, unknown>[] = new Array(incidents.length);
    // Bounded concurrency: a bulk of 100 finishes in a few round trips without a burst of 100 writes.
    let next = 0;
    const worker = async () => {
      while (next < incidents.length) {
        const index = next++;
        const { id, expectedVersion } = incidents[index] as { id: string; expectedVersion?: number };
        try {
          const incident = await transitionIncident(
            id,
            action,
            actor,
            { incidents: deps.incidents, clock },
            { reason, ...(expectedVersion !== undefined ? { expectedVersion } : {}) },
          );
          results[index] = { incidentId: id, outcome: "done", incident };
        } catch (error) {
          if (error instanceof IncidentNotFoundError)
            results[index] = { incidentId: id, outcome: "not_found" };
          else if (error instanceof StaleIncidentError)
            results[index] = { incidentId: id, outcome: "stale", ...(await stale(error, since)) };
          else if (error instanceof TransitionNotAllowedError)
            results[index] = { incidentId: id, outcome: "not_allowed", message: error.message };
          else throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const done = results.filter((r) => r.outcome === "done").length;
    log({ message: "bulk incident transition", action, requested: incidents.length, done });
    return json(200, { action, done, results, readAt: clock.now().toISOString() });
  }

  async function assign(event: APIGatewayProxyEventV2) {
    const id = IncidentIdSchema.safeParse(event.pathParameters?.id);
    if (!id.success) return invalid(id.error);
    const body = writeBody(event, AssignSchema);
    if (!body.ok) return body.answer;
    const { assignee, expectedVersion, since, actor } = body.value;
    try {
      const incident = await assignIncident(
        id.data,
        assignee || undefined,
        actor,
        { incidents: deps.incidents, clock },
        expectedVersion,
      );
      return json(200, { incident, readAt: clock.now().toISOString() });
    } catch (error) {
      if (error instanceof IncidentNotFoundError) return json(404, { message: "incident not found" });
      if (error instanceof StaleIncidentError) return json(409, await stale(error, since));
      throw error;
    }
  }

  async function comment(event: APIGatewayProxyEventV2) {
    const id = IncidentIdSchema.safeParse(event.pathParameters?.id);
    if (!id.success) return invalid(id.error);
    const body = writeBody(event, CommentSchema);
    if (!body.ok) return body.answer;
    try {
      const { at } = await commentOnIncident(id.data, body.value.comment, body.value.actor, {
        incidents: deps.incidents,
        clock,
      });
      return json(201, { incidentId: id.data, at });
    } catch (error) {
      if (error instanceof IncidentNotFoundError) return json(404, { message: "incident not found" });
      throw error;
    }
  }

  async function revokeKey(event: APIGatewayProxyEventV2) {
    const id = IncidentIdSchema.safeParse(event.pathParameters?.id);
    if (!id.success) return invalid(id.error);
    const body = writeBody(event, RevokeSchema);
    if (!body.ok) return body.answer;
    if (!deps.keys) return json(501, { message: "key registry not wired" });
    const incident: Incident | undefined = await deps.incidents.get(id.data);
    if (!incident) return json(404, { message: "incident not found" });
    if (incident.kind !== "leaked_key")
      return json(409, { message: "not one of our keys: nothing to revoke" });
    const at = clock.now().toISOString();
    const key = await deps.keys.revoke(incident.keyHash, at);
    if (!key) return json(404, { message: "the key is no longer in the registry" });
    const audit: QueueAuditEntry = {
      incidentId: incident.incidentId,
      at,
      action: "key_revoked" as QueueAuditEntry["action"],
      actor: body.value.actor,
      reason: body.value.reason,
    };
    await deps.incidents.comment(audit);
    log({ message: "key revoked from the console", incidentId: incident.incidentId, keyId: incident.keyId });
    return json(200, { key: { status: key.status, redacted: key.redacted, revokedAt: key.revokedAt } });
  }

  async function anomalyCounts(event: APIGatewayProxyEventV2) {
    const query = AnomalyQuerySchema.safeParse(event.queryStringParameters ?? {});
    if (!query.success) return invalid(query.error);
    const since = new Date(clock.now().getTime() - (query.data.days - 1) * 86_400_000)
      .toISOString()
      .slice(0, 10);
    return json(200, { since, days: query.data.days, counts: await deps.anomalies.dailyCounts(since) });
  }

  async function anomalyList(event: APIGatewayProxyEventV2) {
    const query = AnomalyListSchema.safeParse(event.queryStringParameters ?? {});
    if (!query.success) return invalid(query.error);
    const { project, ...rest } = query.data;
    try {
      const page = await deps.anomalies.list({
        ...rest,
        ...(project ? { projectId: project } : {}),
      } as Parameters<ConsoleAnomalies["list"]>[0]);
      return json(200, page);
    } catch (error) {
      if (error instanceof InvalidCursorError) return json(400, { message: "invalid cursor" });
      throw error;
    }
  }

  async function anomalyTriage(event: APIGatewayProxyEventV2) {
    const body = writeBody(event, AnomalyTriageSchema);
    if (!body.ok) return body.answer;
    const { ids, state, reason, actor } = body.value;
    const at = clock.now().toISOString();
    const results = await Promise.all(
      ids.map(async (id) => ({
        id,
        outcome: (await deps.anomalies.triage(id, { state, by: actor, at, reason })) ? "done" : "not_found",
      })),
    );
    log({ message: "anomaly triage", state, requested: ids.length });
    return json(200, { state, results });
  }

  async function health() {
    return json(200, {
      scanners: deps.scannerHealth ? await deps.scannerHealth() : [],
      readAt: clock.now().toISOString(),
    });
  }

  function me(event: APIGatewayProxyEventV2) {
    const actor = deps.actorOf(event);
    if (!actor) return json(401, { message: "unauthenticated" });
    return json(200, { actor, canAct: canAct(event) });
  }

  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    switch (event.routeKey) {
      case "GET /api/me":
        return me(event);
      case "GET /api/incidents":
        return list(event);
      case "GET /api/incidents/{id}":
        return details(event);
      case "GET /api/incident-counts":
        return counts(event);
      case "POST /api/incidents/{id}/actions":
        return act(event);
      case "POST /api/incidents/bulk-actions":
        return bulk(event);
      case "POST /api/incidents/{id}/assignee":
        return assign(event);
      case "POST /api/incidents/{id}/comments":
        return comment(event);
      case "POST /api/incidents/{id}/revoke-key":
        return revokeKey(event);
      case "GET /api/anomalies/daily":
        return anomalyCounts(event);
      case "GET /api/anomalies":
        return anomalyList(event);
      case "POST /api/anomalies/triage":
        return anomalyTriage(event);
      case "GET /api/scanner-health":
        return health();
      default:
        return json(404, { message: "Not Found" });
    }
  };
}

/** Routes the API answers (local server and API Gateway). */
export const CONSOLE_API_ROUTES = [
  { method: "GET", path: "/api/me" },
  { method: "GET", path: "/api/incidents" },
  { method: "GET", path: "/api/incidents/{id}" },
  { method: "GET", path: "/api/incident-counts" },
  { method: "POST", path: "/api/incidents/{id}/actions" },
  { method: "POST", path: "/api/incidents/bulk-actions" },
  { method: "POST", path: "/api/incidents/{id}/assignee" },
  { method: "POST", path: "/api/incidents/{id}/comments" },
  { method: "POST", path: "/api/incidents/{id}/revoke-key" },
  { method: "GET", path: "/api/anomalies/daily" },
  { method: "GET", path: "/api/anomalies" },
  { method: "POST", path: "/api/anomalies/triage" },
  { method: "GET", path: "/api/scanner-health" },
] as const;

/** The Cognito group whose members may act; other users of the pool read. */
export const RESPONDERS_GROUP = "keywatch-responders";

function jwtClaims(event: APIGatewayProxyEventV2): Record<string, unknown> | undefined {
  return (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } }).authorizer
    ?.jwt?.claims;
}

/** The deployed actor: the Cognito user behind the JWT (its username, never its email). */
export function jwtActor(event: APIGatewayProxyEventV2): string | undefined {
  const claims = jwtClaims(event);
  const name = claims?.["cognito:username"] ?? claims?.username ?? claims?.sub;
  return typeof name === "string" && name ? `user:${name}` : undefined;
}

/**
 * Membership of the responders group from the token's `cognito:groups`. HTTP APIs hand array
 * claims to the Lambda flattened as a string ("[a b]"), a direct invocation as an array.
 */
export function jwtInGroup(group: string) {
  return (event: APIGatewayProxyEventV2): boolean => {
    const raw = jwtClaims(event)?.["cognito:groups"];
    const groups = Array.isArray(raw)
      ? raw.map(String)
      : typeof raw === "string"
        ? raw
            .replace(/^\[|\]$/g, "")
            .split(/[\s,]+/)
            .filter(Boolean)
        : [];
    return groups.includes(group);
  };
}

const ConsoleApiEnvSchema = z.object({
  KEYWATCH_KEY_PREFIXES: KeyPrefixesSchema,
  CONSOLE_RESPONDERS_GROUP: z.string().min(1).default(RESPONDERS_GROUP),
});

let cold: ReturnType<typeof makeConsoleApiHandler> | undefined;

/** Lambda entry point: wired from the environment once per cold start. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  if (!cold) {
    const env = readEnv(ConsoleApiEnvSchema);
    const tables = tableNamesFromEnv(["incidents", "anomalies", "keys", "notifications", "reports", "state"]);
    const client = createDocumentClient();
    const logger = createLogger("console-api");
    const reports = createReportRepository(client, tables.reports);
    cold = makeConsoleApiHandler({
      incidents: createIncidentRepository(client, tables.incidents),
      anomalies: createConsoleAnomalies(client, tables.anomalies),
      keys: createKeyRepository(client, tables.keys),
      ledger: createLedgerReader(client, tables.notifications),
      reportOf: (reportId) => reports.get(reportId),
      scannerHealth: () => readScannerHealth(client, tables.state),
      keyPrefixes: env.KEYWATCH_KEY_PREFIXES,
      actorOf: jwtActor,
      canAct: jwtInGroup(env.CONSOLE_RESPONDERS_GROUP),
      log: (entry) => logger.info(entry as { message: string }),
    });
  }
  return cold(event);
}
