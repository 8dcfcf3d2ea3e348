import { z } from "zod";
import { readEnv } from "../../lambdas/adapters/config.js";
import { createConsoleAnomalies } from "../../lambdas/adapters/console-anomalies.js";
import { createLedgerReader } from "../../lambdas/adapters/console-notifications.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import type { Route } from "../../lambdas/adapters/local-http.js";
import { createReportRepository } from "../../lambdas/adapters/report-repository.js";
import { readScannerHealth } from "../../lambdas/adapters/scanner-health.js";
import { CONSOLE_PAGE_PATHS, makeConsolePageHandler } from "../../lambdas/handlers/console.js";
import { CONSOLE_API_ROUTES, makeConsoleApiHandler } from "../../lambdas/handlers/console-api.js";
import type { RunnerContext } from "./runner.js";

/**
 * Local stand-in for the Cognito group: the one local operator is a responder unless
 * KEYWATCH_CONSOLE_ROLE=reader (to see and test the read-only console).
 */
const ConsoleLocalSchema = z.object({
  KEYWATCH_CONSOLE_ROLE: z.enum(["responder", "reader"]).default("responder"),
});

/** `GET /console` (+ assets) and every `/api/*` route of the console, wired to the local tables. */
export function consoleRoutes(ctx: RunnerContext, env: NodeJS.ProcessEnv = process.env): Route[] {
  const settings = readEnv(ConsoleLocalSchema, env);
  const { client, tables } = ctx.env;
  const reports = createReportRepository(client, tables.reports);
  const page = makeConsolePageHandler({ auth: "none" });
  const api = makeConsoleApiHandler({
    incidents: createIncidentRepository(client, tables.incidents),
    anomalies: createConsoleAnomalies(client, tables.anomalies, ctx.clock),
    keys: createKeyRepository(client, tables.keys),
    ledger: createLedgerReader(client, tables.notifications),
    reportOf: (reportId) => reports.get(reportId),
    scannerHealth: () => readScannerHealth(client, tables.state),
    keyPrefixes: ctx.settings.keyPrefixes,
    clock: ctx.clock,
    // Local mode has no sign-in: the server listens on 127.0.0.1 only, and the audit says so.
    actorOf: () => "user:local-console",
    canAct: () => settings.KEYWATCH_CONSOLE_ROLE === "responder",
  });
  return [
    ...CONSOLE_PAGE_PATHS.map((path): Route => ({ method: "GET", path, handler: page })),
    ...CONSOLE_API_ROUTES.map((r): Route => ({ method: r.method, path: r.path, handler: api })),
  ];
}
