import { z } from "zod";
import { createOutboxAlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import { readEnv } from "../../lambdas/adapters/config.js";
import type { Route } from "../../lambdas/adapters/local-http.js";
import { makeReportPageHandler, REPORT_PAGE_PATHS } from "../../lambdas/handlers/report-page.js";
import { makeReportsHandler, reportsHandlerDeps } from "../../lambdas/handlers/reports.js";
import type { RunnerContext } from "./runner.js";

/** Local-only knobs (benchmarks raise the limit); the deployed function has its own env vars. */
const ReportFormLocalSchema = z.object({
  KEYWATCH_REPORT_RATE_LIMIT: z.coerce.number().int().positive().default(10),
  KEYWATCH_REPORT_RATE_WINDOW_SECONDS: z.coerce.number().int().positive().default(3600),
});

/** `GET /report` (+ its script and stylesheet) and `POST /reports`, wired to the local tables. */
export function reportFormRoutes(ctx: RunnerContext, env: NodeJS.ProcessEnv = process.env): Route[] {
  const settings = readEnv(ReportFormLocalSchema, env);
  const { client, tables } = ctx.env;
  const page = makeReportPageHandler({ keyPrefixes: ctx.settings.keyPrefixes });
  const alerts = createOutboxAlertPublisher(ctx.paths.outbox);
  const reports = makeReportsHandler(
    reportsHandlerDeps({
      client,
      tables,
      alertSecurityTeam: (alert) => alerts.publish(alert),
      rateLimit: {
        limit: settings.KEYWATCH_REPORT_RATE_LIMIT,
        windowSeconds: settings.KEYWATCH_REPORT_RATE_WINDOW_SECONDS,
      },
      ipPepper: ctx.env.secrets.ipPepper,
      keyPrefixes: ctx.settings.keyPrefixes,
      clock: ctx.clock,
    }),
  );
  return [
    ...REPORT_PAGE_PATHS.map((path): Route => ({ method: "GET", path, handler: page })),
    { method: "POST", path: "/reports", handler: reports },
  ];
}
