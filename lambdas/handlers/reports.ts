import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { z } from "zod";
import { createSnsAlertPublisher, createSnsClient } from "../adapters/alert-publisher.js";
import { type Clock, systemClock } from "../adapters/clock.js";
import { KeyPrefixesSchema, readEnv, tableNamesFromEnv } from "../adapters/config.js";
import { createDocumentClient, SDK_DEADLINES } from "../adapters/dynamodb-client.js";
import { createKeyRepository } from "../adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../adapters/finding-recorder.js";
import { createLogger } from "../adapters/logger.js";
import { createFixedWindowRateLimiter, type RateLimiter } from "../adapters/rate-limiter.js";
import {
  MISUSE_RECEIVED_MESSAGE,
  RECEIVED_MESSAGE,
  type ReportField,
  type ReportFormState,
  renderMisuseReceived,
  renderReportForm,
  renderReportProblem,
  renderReportReceived,
  SECURITY_HEADERS,
} from "../adapters/report-form-html.js";
import { createReportRepository, type ReportRepository } from "../adapters/report-repository.js";
import { recordScannerHealth, type ScannerHealth } from "../adapters/scanner-health.js";
import { readSecretString } from "../adapters/secret-string.js";
import type { TableNames } from "../adapters/table-specs.js";
import { clientAddress } from "../domain/client-address.js";
import type { RecordFindings } from "../domain/finding.js";
import { hmacSha256Hex, ipPrefix } from "../domain/ip-prefix.js";
import { type KeyMatch, MisuseReportSchema, misuseAlert, misuseRecordFor } from "../domain/misuse-report.js";
import {
  analyseReport,
  countKeyShapedTokens,
  findingsForReport,
  MAX_KEYS_PER_REPORT,
  type ReportSubmission,
  ReportSubmissionSchema,
  type ReportVerdict,
  reportRecordFor,
} from "../domain/report.js";
import { reportReference } from "../domain/report-reference.js";
import type { Alert } from "../domain/security-alert.js";

/*
 * CORS / CSRF posture of POST /reports:
 * - Same-origin by design: the form at GET /report posts to /reports on the same host. No CORS
 *   headers are ever sent and there is no OPTIONS route, so a browser won't send another site's
 *   JSON POST (its preflight fails) and never lets another site read any answer.
 * - A cross-site *form* POST is a "simple request" browsers do send; it is refused (403) whenever
 *   the browser says where it came from: `Sec-Fetch-Site` other than same-origin/none, or (browsers
 *   without it) an `Origin` that is not this host. Clients that send neither (curl, scripts) are
 *   not browsers acting for a victim and go through.
 * - There are no cookies or sessions, so there is no ambient authority to ride on; the check
 *   stops other sites from spamming reports through visitors' browsers or spending their rate limit.
 */

export const REPORT_RATE_SCOPE = "report";

/** The 64 KiB limit is on the text a person pasted (UTF-8 bytes), whatever the encoding adds. */
export const REPORT_MAX_TEXT_BYTES = 64 * 1024;
/**
 * Requests above this are refused before decoding: room for 64 KiB of text percent-encoded
 * (3 bytes per byte) or JSON-escaped (up to 6 per character) plus the other fields.
 */
export const REPORT_MAX_REQUEST_BYTES = 512 * 1024;

export interface ReportsLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface ReportsHandlerDeps {
  recordFindings: RecordFindings;
  reports: ReportRepository;
  rateLimiter: RateLimiter;
  /** HMAC key for the client's IP prefix (the rate-limit subject); never logged. */
  ipPepper: string;
  /**
   * The CloudFront front's origin secret (lambdas/domain/client-address.ts): set when the front is
   * on, so the client is the viewer CloudFront names and requests around the front are refused.
   */
  originVerify?: string;
  keyPrefixes: readonly string[];
  clock?: Clock;
  logger?: ReportsLogger;
  newReportId?: () => string;
  /** Stores a misuse report (no key pasted); the reports table. */
  saveMisuse?: (record: ReturnType<typeof misuseRecordFor>) => Promise<void>;
  /** The security team's alert for a misuse report. */
  alertSecurityTeam?: (alert: Alert) => Promise<void>;
  /** The console's scanner-health panel: this channel's latest delivery (`report_form`). */
  recordHealth?: (health: ScannerHealth) => Promise<void>;
  /** The registry's answer for a key id: goes into the team's alert only, never into the answer. */
  keyByKeyId?: (keyId: string) => Promise<KeyMatch | undefined>;
}

type Format = "html" | "json";
type BodyKind = "form" | "json";

const FIELDS: readonly ReportField[] = ["text", "url", "description", "email"];
type MisuseField = "keyRef" | "description" | "email";
const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

function misuseReceived(format: Format, reference: string): APIGatewayProxyStructuredResultV2 {
  return respond(200, format, {
    html: () => renderMisuseReceived(reference),
    json: { status: "received", message: MISUSE_RECEIVED_MESSAGE, reference },
  });
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/** `form` or `json` for the two accepted media types (UTF-8 only); undefined for anything else. */
function bodyKindOf(contentType: string | undefined): BodyKind | undefined {
  if (!contentType) return undefined;
  const [mediaType = "", ...parameters] = contentType.split(";").map((part) => part.trim().toLowerCase());
  const charset = parameters.find((p) => p.startsWith("charset="))?.slice("charset=".length);
  if (charset !== undefined && charset.replaceAll('"', "") !== "utf-8") return undefined;
  if (mediaType === "application/x-www-form-urlencoded") return "form";
  if (mediaType === "application/json") return "json";
  return undefined;
}

function formatOf(event: APIGatewayProxyEventV2): Format {
  const kind = bodyKindOf(header(event, "content-type"));
  if (kind) return kind === "form" ? "html" : "json";
  return (header(event, "accept") ?? "").includes("text/html") ? "html" : "json";
}

function isCrossSite(event: APIGatewayProxyEventV2): boolean {
  // Sec-Fetch-Site is set by the browser itself (scripts can't forge it): when present, it decides.
  const fetchSite = header(event, "sec-fetch-site")?.toLowerCase();
  if (fetchSite !== undefined) return fetchSite !== "same-origin" && fetchSite !== "none";
  // Older browsers: compare Origin. Our own no-referrer policy makes form posts send "Origin: null",
  // so null can't be told apart from a cross-site post there; it is let through.
  const origin = header(event, "origin");
  if (origin === undefined || origin === "null") return false;
  const host = header(event, "host") ?? event.requestContext.domainName;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/** The rate-limit subject: HMAC of the client's /24 or /48, so neighbours share one budget. */
function clientIdOf(ip: string, pepper: string): string {
  try {
    return hmacSha256Hex(pepper, ipPrefix(ip).cidr);
  } catch {
    return hmacSha256Hex(pepper, "unparseable-source-ip");
  }
}

function respond(
  statusCode: number,
  format: Format,
  content: { html: () => string; json: unknown },
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: {
      ...SECURITY_HEADERS,
      "content-type": format === "html" ? "text/html; charset=utf-8" : "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
    body: format === "html" ? content.html() : JSON.stringify(content.json),
  };
}

class BadBodyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BadBodyError";
  }
}

function decodeBody(event: APIGatewayProxyEventV2, kind: BodyKind): unknown {
  const bytes = Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new BadBodyError("The request body is not valid UTF-8 text.", { cause: error });
  }
  if (kind === "form") {
    const params = new URLSearchParams(text);
    const values: Record<string, string> = {};
    for (const name of [...FIELDS, "subject", "kind", "keyRef"]) {
      const value = params.get(name);
      if (value !== null) values[name] = value;
    }
    return values;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new BadBodyError("The request body is not valid JSON.", { cause: error });
  }
}

function bodyLength(event: APIGatewayProxyEventV2): number {
  const body = event.body ?? "";
  return event.isBase64Encoded ? Buffer.byteLength(body, "base64") : Buffer.byteLength(body, "utf8");
}

/** The reporter's own values, echoed back (escaped) into the form so nothing has to be retyped. */
function echoedValues(raw: unknown): ReportFormState["values"] {
  const values: Partial<Record<ReportField, string>> = {};
  if (raw && typeof raw === "object") {
    for (const name of FIELDS) {
      const value = (raw as Record<string, unknown>)[name];
      if (typeof value === "string") values[name] = value;
    }
  }
  return values;
}

function verdictMessage(verdict: Exclude<ReportVerdict, "keys_found">, prefixes: readonly string[]): string {
  const shape = `${prefixes.join(" or ")} followed by 38 letters and digits`;
  if (verdict === "too_many_keys")
    return `This report holds more than ${MAX_KEYS_PER_REPORT} keys. Send at most ${MAX_KEYS_PER_REPORT} keys per report; nothing was recorded.`;
  return verdict === "no_key_shaped_token"
    ? `We found no Smelter API key in what you sent. Smelter keys look like ${shape}; check that the whole key was copied.`
    : `This looks like a Smelter API key but it is not a valid one: a character is wrong or missing. Smelter keys are ${shape}; copy the key again.`;
}

/**
 * `POST /reports`: a compromised-key report from the form (form-encoded → HTML answer) or a
 * script (JSON → JSON answer). The answer never depends on whether a key is registered.
 */
export function makeReportsHandler(deps: ReportsHandlerDeps) {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger("reports");
  const newReportId = deps.newReportId ?? randomUUID;
  // Health is a side note: its failure never changes the reporter's answer.
  const health = (outcome: "ok" | "failed", detail: string, keys?: number) =>
    deps
      .recordHealth?.({
        scanner: "report_form",
        lastRunAt: clock.now().toISOString(),
        outcome,
        detail,
        ...(keys !== undefined ? { counts: { keys } } : {}),
      })
      .catch(() => {});
  const prefixes = deps.keyPrefixes;

  const invalid = (format: Format, statusCode: number, state: ReportFormState) =>
    respond(statusCode, format, {
      html: () => renderReportForm(state, prefixes),
      json: {
        status: "invalid",
        message: state.notice ?? Object.values(state.errors ?? {})[0] ?? "The report is not valid.",
        ...(state.errors ? { errors: state.errors } : {}),
      },
    });
  const problem = (format: Format, statusCode: number, title: string, message: string, status: string) =>
    respond(statusCode, format, {
      html: () => renderReportProblem(title, message),
      json: { status, message },
    });

  const misuseValues = (raw: unknown) => {
    const values: Partial<Record<MisuseField, string>> = {};
    for (const name of ["keyRef", "description", "email"] as const) {
      const value = (raw as Record<string, unknown>)[name];
      if (typeof value === "string") values[name] = value;
    }
    return values;
  };

  /** "Think your key was misused?" without the key: same budget, same answer whatever the registry says. */
  async function misuse(
    raw: unknown,
    format: Format,
    clientId: string,
    requestId: string | undefined,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const refuse = (statusCode: number, errors: Partial<Record<MisuseField, string>>, notice?: string) =>
      respond(statusCode, format, {
        html: () =>
          renderReportForm(
            { misuse: { values: misuseValues(raw), errors }, ...(notice ? { notice } : {}) },
            prefixes,
          ),
        json: {
          status: statusCode === 429 ? "rate_limited" : statusCode === 503 ? "unavailable" : "invalid",
          message: notice ?? Object.values(errors)[0],
          errors,
        },
      });
    const parsed = MisuseReportSchema.safeParse(raw);
    if (!parsed.success) {
      const errors: Partial<Record<MisuseField, string>> = {};
      for (const issue of parsed.error.issues) {
        const field = issue.path[0];
        if (field === "keyRef" || field === "description" || field === "email")
          errors[field] ??= issue.message;
      }
      return refuse(400, errors);
    }
    if (countKeyShapedTokens(parsed.data.description, prefixes) > 0)
      return refuse(422, {
        description:
          "This looks like it holds a key. This path is for reports without the key: use the form above to report the key itself.",
      });
    if (parsed.data.subject !== undefined) return misuseReceived(format, reportReference(newReportId()));
    let decision: Awaited<ReturnType<RateLimiter["consume"]>>;
    try {
      decision = await deps.rateLimiter.consume(clientId);
    } catch {
      return refuse(
        503,
        {},
        "We could not record your report just now. Nothing was lost: send it again in a minute.",
      );
    }
    if (!decision.allowed)
      return refuse(
        429,
        {},
        "Too many reports from your network. Your text is still below: please send it again later.",
      );
    const record = misuseRecordFor(newReportId(), parsed.data, clock.now());
    const reference = reportReference(record.reportId);
    try {
      if (!deps.saveMisuse || !deps.alertSecurityTeam) throw new Error("misuse reports are not wired");
      await deps.saveMisuse(record);
      const match =
        KEY_ID_PATTERN.test(record.keyRef) && deps.keyByKeyId
          ? await deps.keyByKeyId(record.keyRef)
          : undefined;
      await deps.alertSecurityTeam(misuseAlert(record, reference, match));
    } catch (error) {
      logger.error("misuse report not recorded", {
        requestId,
        reportId: record.reportId,
        error: (error as Error).name,
      });
      return refuse(
        503,
        {},
        "We could not record your report just now. Nothing was lost: send it again in a minute.",
      );
    }
    logger.info("misuse report received", {
      requestId,
      reportId: record.reportId,
      client: clientId.slice(0, 12),
    });
    return misuseReceived(format, reference);
  }

  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const requestId = event.requestContext?.requestId;
    const format = formatOf(event);

    if (isCrossSite(event)) {
      logger.warn("report refused: cross-site post", { requestId });
      return problem(format, 403, "Not sent", "Reports can only be sent from the report form.", "forbidden");
    }

    const address = clientAddress(
      { sourceIp: event.requestContext.http.sourceIp, headers: event.headers },
      deps.originVerify,
    );
    if (address.kind === "bypassed_front") {
      logger.warn("report refused: sent around the CloudFront front", { requestId });
      return problem(
        format,
        403,
        "Not sent",
        "Send reports through the report form's published address.",
        "forbidden",
      );
    }
    const clientId = clientIdOf(address.ip, deps.ipPepper);
    const kind = bodyKindOf(header(event, "content-type"));
    if (!kind) {
      return problem(
        format,
        415,
        "Unsupported format",
        "Send the report as application/x-www-form-urlencoded or application/json (UTF-8).",
        "unsupported_media_type",
      );
    }
    if (bodyLength(event) > REPORT_MAX_REQUEST_BYTES) {
      return problem(
        format,
        413,
        "Too large",
        "The report is far larger than 64 KiB. Paste only the part that contains the key.",
        "too_large",
      );
    }

    let raw: unknown;
    try {
      raw = decodeBody(event, kind);
    } catch (error) {
      if (!(error instanceof BadBodyError)) throw error;
      return invalid(format, 400, { notice: error.message });
    }
    if ((raw as { kind?: unknown } | null)?.kind === "misuse")
      return misuse(raw, format, clientId, requestId);
    const pasted = (raw as { text?: unknown } | null)?.text;
    if (typeof pasted === "string" && Buffer.byteLength(pasted, "utf8") > REPORT_MAX_TEXT_BYTES) {
      const kib = Math.ceil(Buffer.byteLength(pasted, "utf8") / 1024);
      return invalid(format, 413, {
        values: echoedValues(raw),
        errors: {
          text: `The text is ${kib} KiB; the limit is 64 KiB. Keep only the part around the key and send again.`,
        },
      });
    }
    const parsed = ReportSubmissionSchema.safeParse(raw);
    if (!parsed.success) {
      const errors: Partial<Record<ReportField, string>> = {};
      let notice: string | undefined;
      for (const issue of parsed.error.issues) {
        const field = issue.path[0];
        if (typeof field === "string" && (FIELDS as readonly string[]).includes(field)) {
          errors[field as ReportField] ??= issue.message;
        } else notice ??= "The report must be an object with a text field.";
      }
      return invalid(format, 400, { values: echoedValues(raw), errors, ...(notice ? { notice } : {}) });
    }

    const submission: ReportSubmission = parsed.data;
    const analysis = analyseReport(submission, prefixes);
    if (analysis.verdict !== "keys_found") {
      return invalid(format, 422, {
        values: echoedValues(raw),
        errors: { text: verdictMessage(analysis.verdict, prefixes) },
      });
    }

    const reportId = newReportId();
    const reference = reportReference(reportId);
    const redacted = analysis.keys.map((key) => key.redacted);
    const received = () =>
      respond(200, format, {
        html: () => renderReportReceived(redacted, reference),
        json: { status: "received", message: RECEIVED_MESSAGE, keys: redacted, reference },
      });
    // A store failure keeps what the person wrote: the form comes back with it and a notice.
    const unavailable = () =>
      respond(503, format, {
        html: () =>
          renderReportForm(
            {
              values: echoedValues(raw),
              notice:
                "We could not record your report just now. Nothing was lost: send it again in a minute.",
            },
            prefixes,
          ),
        json: {
          status: "unavailable",
          message: "We could not record your report just now. Please send it again in a minute.",
        },
      });

    if (analysis.honeypotFilled) {
      // Looks accepted so the bot learns nothing; nothing is stored, recorded or alerted.
      logger.info("report dropped: honeypot", { requestId, client: clientId.slice(0, 12) });
      return received();
    }

    // Only a report that will be recorded spends the hourly budget; refusals above cost nothing.
    let decision: Awaited<ReturnType<RateLimiter["consume"]>>;
    try {
      decision = await deps.rateLimiter.consume(clientId);
    } catch (error) {
      logger.error("report not recorded: rate limiter unavailable", {
        requestId,
        error: (error as Error).name,
      });
      return unavailable();
    }
    if (!decision.allowed) {
      logger.warn("report refused: rate limited", { requestId, client: clientId.slice(0, 12) });
      const minutes = Math.ceil(decision.retryAfterSeconds / 60);
      const message = `Too many reports from your network. Your text is still below: please send it again in ${minutes} ${minutes === 1 ? "minute" : "minutes"}.`;
      return respond(
        429,
        format,
        {
          html: () => renderReportForm({ values: echoedValues(raw), notice: message }, prefixes),
          json: { status: "rate_limited", message, retryAfterSeconds: decision.retryAfterSeconds },
        },
        { "retry-after": String(decision.retryAfterSeconds) },
      );
    }

    const record = reportRecordFor(reportId, submission, analysis, clock.now());
    try {
      // The report goes first: the notifier reads it when the finding's occurrence streams out.
      await deps.reports.save(record);
      await deps.recordFindings(findingsForReport(record, analysis));
    } catch (error) {
      logger.error("report not recorded", {
        requestId,
        reportId: record.reportId,
        error: (error as Error).name,
      });
      await health("failed", "a report could not be recorded (DynamoDB)");
      return unavailable();
    }
    await health("ok", "last report recorded", record.keysFound);
    logger.info("report received", {
      requestId,
      reportId: record.reportId,
      keysFound: record.keysFound,
      keys: redacted,
      descriptionWithheld: record.descriptionWithheld,
      urlWithheld: record.urlWithheld,
      withReplyAddress: record.reporterEmail !== undefined,
      client: clientId.slice(0, 12),
    });
    return received();
  };
}

/**
 * The form's dependencies on DynamoDB, wired the same way for the Lambda and the local runner
 * (only the alert channel, the rate-limit settings and the clock differ).
 */
export function reportsHandlerDeps(input: {
  client: DynamoDBDocumentClient;
  tables: Pick<TableNames, "keys" | "incidents" | "reports" | "state">;
  alertSecurityTeam?: (alert: Alert) => Promise<void>;
  rateLimit: { limit: number; windowSeconds: number };
  ipPepper: string;
  originVerify?: string;
  keyPrefixes: readonly string[];
  clock?: Clock;
}): ReportsHandlerDeps {
  const { client, tables, clock } = input;
  const store = createReportRepository(client, tables.reports);
  const keys = createKeyRepository(client, tables.keys);
  return {
    recordFindings: createFindingRecorder({ client, tables, ...(clock ? { clock } : {}) }),
    reports: store,
    saveMisuse: (record) => store.save(record),
    ...(input.alertSecurityTeam ? { alertSecurityTeam: input.alertSecurityTeam } : {}),
    keyByKeyId: async (keyId) => {
      const key = await keys.getByKeyId(keyId);
      return key ? { projectId: key.projectId, status: key.status } : undefined;
    },
    recordHealth: (health) => recordScannerHealth(client, tables.state, health),
    rateLimiter: createFixedWindowRateLimiter({
      client,
      table: tables.state,
      scope: REPORT_RATE_SCOPE,
      ...input.rateLimit,
      ...(clock ? { clock } : {}),
    }),
    ipPepper: input.ipPepper,
    ...(input.originVerify !== undefined ? { originVerify: input.originVerify } : {}),
    keyPrefixes: input.keyPrefixes,
    ...(clock ? { clock } : {}),
  };
}

/** Settings the deployed function reads once at cold start. */
const ReportsEnvSchema = z.object({
  KEYWATCH_KEY_PREFIXES: KeyPrefixesSchema,
  /** Secrets Manager secret holding the IP pepper (see lib/constructs/report-form.ts). */
  IP_PEPPER_SECRET_ID: z.string().min(1),
  REPORT_RATE_LIMIT: z.coerce.number().int().positive().default(10),
  REPORT_RATE_WINDOW_SECONDS: z.coerce.number().int().positive().default(3600),
  /** The security team's topic, for misuse reports (no key pasted); unset: those answer 503. */
  SECURITY_ALERTS_TOPIC_ARN: z.string().startsWith("arn:").optional(),
  /** Set when the CloudFront front is on (EdgeProtection): the secret its origin requests carry. */
  ORIGIN_VERIFY_SECRET_ID: z.string().min(1).optional(),
});

async function fromEnvironment() {
  const env = readEnv(ReportsEnvSchema);
  const tables = tableNamesFromEnv(["keys", "incidents", "reports", "state"] as const);
  // A person is waiting: each call answers within 5 s, a frozen table is a 503 page (issue 16).
  const client = createDocumentClient({}, SDK_DEADLINES.interactive);
  const topic = env.SECURITY_ALERTS_TOPIC_ARN;
  const alerts = topic
    ? createSnsAlertPublisher(createSnsClient(), { security: topic, keyEvents: topic })
    : undefined;
  return makeReportsHandler(
    reportsHandlerDeps({
      client,
      tables,
      ...(alerts ? { alertSecurityTeam: (alert: Alert) => alerts.publish(alert) } : {}),
      rateLimit: { limit: env.REPORT_RATE_LIMIT, windowSeconds: env.REPORT_RATE_WINDOW_SECONDS },
      ipPepper: await readSecretString(env.IP_PEPPER_SECRET_ID),
      ...(env.ORIGIN_VERIFY_SECRET_ID
        ? { originVerify: await readSecretString(env.ORIGIN_VERIFY_SECRET_ID) }
        : {}),
      keyPrefixes: env.KEYWATCH_KEY_PREFIXES,
    }),
  );
}

let ready: ReturnType<typeof fromEnvironment> | undefined;

/** Wired once per cold start; a failed start (secret unreadable) is retried on the next request. */
export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  ready ??= fromEnvironment().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return (await ready)(event);
}
