import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { z } from "zod";
import { KeyPrefixesSchema, readEnv, tableNamesFromEnv } from "./config.js";
import { createDocumentClient } from "./dynamodb-client.js";
import { createFindingRecorder } from "./finding-recorder.js";
import type { GitHubScannerWiring } from "./github-scanners.js";
import { isPlaceholderToken } from "./github-token.js";
import { createLogger } from "./logger.js";
import { METRICS_NAMESPACE } from "./scan-metrics.js";
import { ScheduledEventSchema } from "./scheduled-event.js";
import { readSecretString } from "./secret-string.js";

/** Settings every scheduled GitHub scanner reads at cold start. */
export const GitHubScannerSettingsSchema = z.object({
  GITHUB_API_URL: z.string().url().default("https://api.github.com"),
  /** ARN of the secret holding the token: the value is read at run time, never put in the template. */
  GITHUB_TOKEN_SECRET_ARN: z.string().startsWith("arn:"),
  KEY_PREFIXES: KeyPrefixesSchema,
});

export interface ScheduledScanDeps<C> {
  /** One scan cycle that must end by `deadline` (epoch ms). */
  run(deadline: number): Promise<C>;
  addMetrics(metrics: Metrics, counters: C): void;
  metrics: Metrics;
  logger: ScanLogger;
  /** What the log line calls the run, e.g. "events poll". */
  name: string;
}

export interface ScanLogger {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
}

/** The token problems a run reports instead of throwing every minute (TokenRejected metric + alarm). */
export function tokenProblemOf(counters: object): string | undefined {
  const c = counters as { skipped?: string; stopped?: string };
  if (c.skipped === "token_placeholder") {
    return "GitHub token secret still holds its generated placeholder: run skipped; set a token in the secret (docs/github-scanners.md#secret)";
  }
  if (c.stopped === "unauthorized") {
    return "GitHub answered 401 Bad credentials: run stopped; replace the token in the secret";
  }
  return undefined;
}

/** A scheduled scanner: validate the EventBridge event, one run within the invocation's time, counters out as metrics. */
export function makeScheduledScanHandler<C extends object>(deps: ScheduledScanDeps<C>) {
  return async (event: unknown, context: Pick<Context, "getRemainingTimeInMillis">): Promise<C> => {
    ScheduledEventSchema.parse(event);
    const counters = await deps.run(Date.now() + context.getRemainingTimeInMillis());
    deps.addMetrics(deps.metrics, counters);
    deps.metrics.publishStoredMetrics();
    const problem = tokenProblemOf(counters);
    if (problem) deps.logger.warn(`${deps.name}: ${problem}`, { ...(counters as Record<string, unknown>) });
    else deps.logger.info(`${deps.name} done`, { ...(counters as Record<string, unknown>) });
    return counters;
  };
}

/**
 * Cold-start wiring shared by the scanners: settings, DynamoDB, the token from Secrets Manager and
 * the finding recorder; `extra` parses the scanner's own settings from the same environment.
 */
export async function wireGitHubScanner<E extends z.ZodRawShape>(
  service: string,
  extra: E,
): Promise<{
  wiring: GitHubScannerWiring;
  settings: z.infer<z.ZodObject<E>>;
  metrics: Metrics;
  logger: ReturnType<typeof createLogger>;
}> {
  const common = readEnv(GitHubScannerSettingsSchema);
  const settings = readEnv(z.object(extra)) as z.infer<z.ZodObject<E>>;
  const tables = tableNamesFromEnv(["state", "keys", "incidents"]);
  const client = createDocumentClient();
  const secret = await readSecretString(common.GITHUB_TOKEN_SECRET_ARN);
  const tokenIsPlaceholder = isPlaceholderToken(secret);
  const logger = createLogger(service);
  return {
    wiring: {
      apiUrl: common.GITHUB_API_URL,
      // The placeholder is never sent: GitHub would answer 401 on every call.
      ...(tokenIsPlaceholder ? { tokenIsPlaceholder } : { token: secret.trim() }),
      client,
      stateTable: tables.state,
      recordFindings: createFindingRecorder({ client, tables }),
      prefixes: common.KEY_PREFIXES,
      onHealthError: (error) =>
        logger.warn("scanner health not recorded", { error: (error as Error).message }),
    },
    settings,
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service }),
    logger,
  };
}
