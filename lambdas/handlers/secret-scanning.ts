import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { z } from "zod";
import { type Clock, systemClock } from "../adapters/clock.js";
import { KeyPrefixesSchema, readEnv, tableNamesFromEnv } from "../adapters/config.js";
import { createDocumentClient, SDK_DEADLINES } from "../adapters/dynamodb-client.js";
import { createFindingRecorder } from "../adapters/finding-recorder.js";
import {
  createGitHubPublicKeys,
  DEFAULT_GITHUB_API_URL,
  type PublicKeyDirectory,
  PublicKeysUnavailableError,
} from "../adapters/github-public-keys.js";
import { createLogger } from "../adapters/logger.js";
import { recordScannerHealth, type ScannerHealth } from "../adapters/scanner-health.js";
import { readSecretString } from "../adapters/secret-string.js";
import type { RecordFindings } from "../domain/finding.js";
import {
  KEY_IDENTIFIER_HEADER,
  SIGNATURE_HEADER,
  verifyPartnerSignature,
} from "../domain/partner-signature.js";
import { RecordFindingsInterruptedError } from "../domain/record-findings.js";
import {
  findingsFromAlerts,
  labelAlerts,
  parseSecretScanningBatch,
} from "../domain/secret-scanning-alert.js";

/** Largest body accepted (1 MiB, about 5,000 realistic alerts); bigger ones get 413 before any work. */
export const MAX_PARTNER_BODY_BYTES = 1024 * 1024;
/**
 * Time a delivery may spend recording before it stops and answers 503 (GitHub's deadline and API
 * Gateway's integration limit are 30 s, the function's timeout 25 s). What was recorded stays
 * recorded; a redelivery finds it done (idempotent) and carries on.
 */
export const RECORDING_BUDGET_MS = 20_000;

/** Identifiers GitHub uses are hex digests; anything else is refused without a key lookup. */
const KEY_IDENTIFIER = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface HandlerLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

export interface SecretScanningDeps {
  recordFindings: RecordFindings;
  publicKeys: PublicKeyDirectory;
  /** Our key prefixes: only tokens with one of them (and a matching checksum) are our keys. */
  prefixes: readonly string[];
  clock: Clock;
  logger: HandlerLogger;
  maxBodyBytes?: number;
  recordingBudgetMs?: number;
  /** Records each delivery's outcome for the console's scanner-health panel (scanner `partner_webhook`). */
  recordHealth?: (health: ScannerHealth) => Promise<void>;
  /** Milliseconds since an arbitrary origin, for the recording budget. */
  elapsedMs?: () => number;
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}) {
  return {
    statusCode,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
    body: JSON.stringify(body),
  } satisfies APIGatewayProxyStructuredResultV2;
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/** Size of the body as received, without decoding it (base64 gives 3 bytes per 4 characters). */
function bodyBytesLength(event: APIGatewayProxyEventV2): number {
  const body = event.body ?? "";
  return event.isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body, "utf8");
}

/** The raw bytes GitHub signed: API Gateway base64-encodes bodies it doesn't treat as text. */
function rawBody(event: APIGatewayProxyEventV2): Buffer {
  const body = event.body ?? "";
  return event.isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
}

/**
 * `POST /github/secret-scanning`: GitHub's secret-scanning partner deliveries.
 * Order matters: size (413) before any work; signature over the raw bytes (401) before
 * decoding or parsing, so an unauthenticated caller learns nothing about the parser;
 * then strict UTF-8, JSON and the alert schema (400); then findings → recordFindings, which
 * only writes DynamoDB (emails leave from the incidents stream), and the labels (200).
 */
export function makeSecretScanningHandler(deps: SecretScanningDeps) {
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_PARTNER_BODY_BYTES;
  const budgetMs = deps.recordingBudgetMs ?? RECORDING_BUDGET_MS;
  const elapsedMs = deps.elapsedMs ?? (() => performance.now());
  const health = async (
    outcome: ScannerHealth["outcome"],
    detail: string,
    counts: Record<string, number>,
  ) => {
    try {
      await deps.recordHealth?.({
        scanner: "partner_webhook",
        lastRunAt: deps.clock.now().toISOString(),
        outcome,
        detail,
        counts,
      });
    } catch (error) {
      // The health panel is informational: a failed write must not fail GitHub's delivery.
      deps.logger.warn("scanner health not recorded", { error: (error as Error).name });
    }
  };
  return async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const requestId = event.requestContext?.requestId;
    const startedAt = elapsedMs();
    if (bodyBytesLength(event) > maxBodyBytes) {
      deps.logger.warn("partner delivery refused: body too large", { requestId, limit: maxBodyBytes });
      return json(413, { message: `body larger than ${maxBodyBytes} bytes` });
    }

    const keyIdentifier = header(event, KEY_IDENTIFIER_HEADER)?.trim() ?? "";
    const signature = header(event, SIGNATURE_HEADER)?.trim() ?? "";
    const unauthorized = (reason: string) => {
      deps.logger.warn("partner delivery refused: signature", {
        requestId,
        reason,
        keyIdentifier: KEY_IDENTIFIER.test(keyIdentifier) ? keyIdentifier : "(invalid)",
      });
      return json(401, { message: "missing or invalid GitHub signature" });
    };
    if (!KEY_IDENTIFIER.test(keyIdentifier) || signature === "") return unauthorized("missing_headers");

    let publicKey: Awaited<ReturnType<PublicKeyDirectory["keyFor"]>>;
    try {
      publicKey = await deps.publicKeys.keyFor(keyIdentifier);
    } catch (error) {
      if (!(error instanceof PublicKeysUnavailableError)) throw error;
      deps.logger.error("partner delivery deferred: GitHub public keys unavailable", {
        requestId,
        error: error.message,
      });
      // GitHub retries deliveries that fail; a 503 is honest about whose fault it is.
      return json(
        503,
        { message: "cannot verify signatures right now; retry later" },
        { "retry-after": "60" },
      );
    }
    if (!publicKey) return unauthorized("unknown_key_identifier");
    const body = rawBody(event);
    if (!verifyPartnerSignature(body, signature, publicKey)) return unauthorized("bad_signature");

    const parsed = parseSecretScanningBatch(body);
    if (!parsed.ok) {
      deps.logger.warn("partner delivery refused: body", { requestId, keyIdentifier, reason: parsed.reason });
      return json(parsed.reason === "too_many_alerts" ? 413 : 400, { message: parsed.detail });
    }

    const findings = findingsFromAlerts(parsed.alerts, { prefixes: deps.prefixes, seenAt: deps.clock.now() });
    let outcomes: Awaited<ReturnType<RecordFindings>> = [];
    try {
      if (findings.length > 0) {
        outcomes = await deps.recordFindings(findings, {
          shouldStop: () => elapsedMs() - startedAt > budgetMs,
        });
      }
    } catch (error) {
      if (!(error instanceof RecordFindingsInterruptedError)) {
        await health(
          "failed",
          `delivery of ${parsed.alerts.length} alerts failed: ${(error as Error).name}`,
          {
            alerts: parsed.alerts.length,
          },
        );
        throw error;
      }
      deps.logger.error("partner delivery deferred: recording budget spent", {
        requestId,
        alerts: parsed.alerts.length,
        recordedKeys: error.recordedKeys,
        totalKeys: error.totalKeys,
      });
      await health(
        "degraded",
        `delivery of ${parsed.alerts.length} alerts deferred after ${error.recordedKeys} of ${error.totalKeys} keys`,
        {
          alerts: parsed.alerts.length,
          recordedKeys: error.recordedKeys,
        },
      );
      return json(
        503,
        { message: "delivery too large to finish in time; what was recorded is kept, retry" },
        { "retry-after": "30" },
      );
    }
    const registered = new Set(outcomes.filter((o) => o.status === "registered").map((o) => o.keyHash));
    const labels = labelAlerts(parsed.alerts, registered);
    const counts = {
      alerts: parsed.alerts.length,
      findings: findings.length,
      truePositives: labels.filter((label) => label.label === "true_positive").length,
      newOccurrences: outcomes.filter((o) => o.newOccurrence).length,
    };
    deps.logger.info("partner delivery processed", { requestId, keyIdentifier, ...counts });
    await health("ok", `last delivery: ${counts.alerts} alerts, ${counts.truePositives} of our keys`, counts);
    return json(200, labels);
  };
}

const SettingsSchema = z.object({
  GITHUB_API_URL: z.string().url().default(DEFAULT_GITHUB_API_URL),
  GITHUB_TOKEN: z.string().min(1).optional(),
  /** Deployed: the token lives in Secrets Manager, read once on the first keys fetch. */
  GITHUB_TOKEN_SECRET_ID: z.string().min(1).optional(),
  KEYWATCH_KEY_PREFIXES: KeyPrefixesSchema,
  /** The state table for the scanner-health item; optional so a stack without the grant still serves GitHub. */
  STATE_TABLE: z.string().min(1).optional(),
});

/** The optional GitHub token: from the environment, or read once from Secrets Manager (unauthenticated if unreadable). */
function githubToken(
  settings: z.infer<typeof SettingsSchema>,
  logger: HandlerLogger,
): () => Promise<string | undefined> {
  let token: Promise<string | undefined> | undefined;
  return () => {
    if (settings.GITHUB_TOKEN || !settings.GITHUB_TOKEN_SECRET_ID)
      return Promise.resolve(settings.GITHUB_TOKEN);
    token ??= readSecretString(settings.GITHUB_TOKEN_SECRET_ID).catch((error: unknown) => {
      // The keys endpoint works without a token, only with a lower rate limit.
      logger.warn("github token unreadable; fetching public keys unauthenticated", {
        error: (error as Error).message,
      });
      return undefined;
    });
    return token;
  };
}

/** Wired from the environment once per cold start (the first invocation), then reused. */
function fromEnvironment() {
  const settings = readEnv(SettingsSchema);
  const logger = createLogger("secret-scanning");
  const clock = systemClock;
  // Each call answers within 5 s, so a frozen table is a 503 well inside GitHub's 30 s (issue 16).
  const client = createDocumentClient({}, SDK_DEADLINES.interactive);
  const stateTable = settings.STATE_TABLE;
  return makeSecretScanningHandler({
    ...(stateTable
      ? { recordHealth: (health: ScannerHealth) => recordScannerHealth(client, stateTable, health) }
      : {}),
    recordFindings: createFindingRecorder({
      client,
      tables: tableNamesFromEnv(["keys", "incidents"]),
      clock,
    }),
    publicKeys: createGitHubPublicKeys({
      apiUrl: settings.GITHUB_API_URL,
      token: githubToken(settings, logger),
      clock,
      logger,
    }),
    prefixes: settings.KEYWATCH_KEY_PREFIXES,
    clock,
    logger,
  });
}

let wired: ReturnType<typeof makeSecretScanningHandler> | undefined;

export const handler = (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  wired ??= fromEnvironment();
  return wired(event);
};
