import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { z } from "zod";
import { type Clock, systemClock } from "../adapters/clock.js";
import { tableNamesFromEnv } from "../adapters/config.js";
import { createConsoleAnomalies } from "../adapters/console-anomalies.js";
import { createDocumentClient } from "../adapters/dynamodb-client.js";
import { InvalidCursorError } from "../adapters/dynamodb-cursor.js";
import { createIncidentRepository } from "../adapters/dynamodb-incident-repository.js";
import { createLogger } from "../adapters/logger.js";
import type { ConsoleAnomalies } from "../domain/anomaly-counts.js";
import {
  INCIDENT_STATES,
  type IncidentRepository,
  TRANSITIONS,
  type TransitionAction,
} from "../domain/incident.js";
import {
  IncidentNotFoundError,
  TransitionNotAllowedError,
  transitionIncident,
} from "../domain/transition-incident.js";

export interface ConsoleApiDeps {
  incidents: IncidentRepository;
  anomalies: ConsoleAnomalies;
  clock?: Clock;
  /** Who is acting, for the audit trail: the JWT subject when deployed, the local operator locally. */
  actorOf(event: APIGatewayProxyEventV2): string | undefined;
  log?: (entry: Record<string, unknown>) => void;
}

const IncidentIdSchema = z.string().regex(/^inc_[0-9a-f]{20}$/, "expected an incident id");

const ListQuerySchema = z
  .object({
    kind: z.enum(["leaked_key", "unknown_key"]).default("leaked_key"),
    state: z.enum(INCIDENT_STATES).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9_-]+$/)
      .optional(),
  })
  .strict();

const ActionSchema = z
  .object({ action: z.enum(Object.keys(TRANSITIONS) as [TransitionAction, ...TransitionAction[]]) })
  .strict();

const AnomalyQuerySchema = z.object({ days: z.coerce.number().int().min(1).max(90).default(14) }).strict();

/** Console bodies are tiny; anything bigger is refused before parsing. */
const MAX_ACTION_BODY = 1024;

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
    message: "invalid request",
    issues: error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })),
  });
}

function bodyText(event: APIGatewayProxyEventV2): string | undefined {
  if (event.body === undefined) return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, "base64").toString("utf8") : event.body;
}

/**
 * The security team's JSON API: incidents (leaks and unknown keys), one incident with its
 * occurrences and audit trail, actions on it, and anomaly counts for the chart.
 * CSRF: actions require a JSON body (a cross-site form can't send one without a CORS
 * preflight, which is never granted); deployed, every route also needs a bearer JWT.
 */
export function makeConsoleApiHandler(deps: ConsoleApiDeps) {
  const clock = deps.clock ?? systemClock;
  const log = deps.log ?? (() => {});

  async function list(event: APIGatewayProxyEventV2) {
    const query = ListQuerySchema.safeParse(event.queryStringParameters ?? {});
    if (!query.success) return invalid(query.error);
    try {
      const page = await deps.incidents.list(query.data);
      return json(200, page);
    } catch (error) {
      if (error instanceof InvalidCursorError) return json(400, { message: "invalid cursor" });
      throw error;
    }
  }

  async function details(event: APIGatewayProxyEventV2) {
    const id = IncidentIdSchema.safeParse(event.pathParameters?.id);
    if (!id.success) return invalid(id.error);
    const found = await deps.incidents.details(id.data);
    return found ? json(200, found) : json(404, { message: "incident not found" });
  }

  async function act(event: APIGatewayProxyEventV2) {
    const id = IncidentIdSchema.safeParse(event.pathParameters?.id);
    if (!id.success) return invalid(id.error);
    const type = event.headers["content-type"] ?? "";
    if (!/^application\/json\b/i.test(type)) return json(415, { message: "expected application/json" });
    const text = bodyText(event) ?? "";
    if (text.length > MAX_ACTION_BODY) return json(413, { message: "body too large" });
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return json(400, { message: "body is not JSON" });
    }
    const body = ActionSchema.safeParse(raw);
    if (!body.success) return invalid(body.error);
    const actor = deps.actorOf(event);
    if (!actor) return json(401, { message: "unauthenticated" });
    try {
      const incident = await transitionIncident(id.data, body.data.action, actor, {
        incidents: deps.incidents,
        clock,
      });
      log({
        message: "incident transition",
        incidentId: id.data,
        action: body.data.action,
        to: incident.state,
      });
      return json(200, { incident });
    } catch (error) {
      if (error instanceof IncidentNotFoundError) return json(404, { message: "incident not found" });
      if (error instanceof TransitionNotAllowedError) return json(409, { message: error.message });
      throw error;
    }
  }

  async function anomalies(event: APIGatewayProxyEventV2) {
    const query = AnomalyQuerySchema.safeParse(event.queryStringParameters ?? {});
    if (!query.success) return invalid(query.error);
    const since = new Date(clock.now().getTime() - (query.data.days - 1) * 86_400_000)
      .toISOString()
      .slice(0, 10);
    return json(200, { since, days: query.data.days, counts: await deps.anomalies.dailyCounts(since) });
  }

  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    switch (event.routeKey) {
      case "GET /api/incidents":
        return list(event);
      case "GET /api/incidents/{id}":
        return details(event);
      case "POST /api/incidents/{id}/actions":
        return act(event);
      case "GET /api/anomalies/daily":
        return anomalies(event);
      default:
        return json(404, { message: "Not Found" });
    }
  };
}

/** Routes the API answers (local server and API Gateway). */
export const CONSOLE_API_ROUTES = [
  { method: "GET", path: "/api/incidents" },
  { method: "GET", path: "/api/incidents/{id}" },
  { method: "POST", path: "/api/incidents/{id}/actions" },
  { method: "GET", path: "/api/anomalies/daily" },
] as const;

/** The deployed actor: the Cognito user behind the JWT (its username, never its email). */
export function jwtActor(event: APIGatewayProxyEventV2): string | undefined {
  const claims = (event.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } })
    .authorizer?.jwt?.claims;
  const name = claims?.["cognito:username"] ?? claims?.username ?? claims?.sub;
  return typeof name === "string" && name ? `user:${name}` : undefined;
}

let cold: ReturnType<typeof makeConsoleApiHandler> | undefined;

/** Lambda entry point: wired from the environment once per cold start. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  if (!cold) {
    const tables = tableNamesFromEnv(["incidents", "anomalies"]);
    const client = createDocumentClient();
    const logger = createLogger("console-api");
    cold = makeConsoleApiHandler({
      incidents: createIncidentRepository(client, tables.incidents),
      anomalies: createConsoleAnomalies(client, tables.anomalies),
      actorOf: jwtActor,
      log: (entry) => logger.info(entry as { message: string }),
    });
  }
  return cold(event);
}
