import { Logger } from "@aws-lambda-powertools/logger";

/**
 * Structured JSON logs (Powertools). Callers log redacted keys, key ids, truncated IP prefixes
 * and counts only: never a raw key, a full IP address or an email address.
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as "INFO" | undefined) ?? "INFO" });
}
