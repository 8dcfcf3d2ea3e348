import { z } from "zod";
import { createOutboxAlertPublisher } from "../../lambdas/adapters/alert-publisher.js";
import { readEnv } from "../../lambdas/adapters/config.js";
import { createKeyRepository } from "../../lambdas/adapters/dynamodb-key-repository.js";
import { createFindingRecorder } from "../../lambdas/adapters/finding-recorder.js";
import type { Route } from "../../lambdas/adapters/local-http.js";
import { createFixedWindowRateLimiter } from "../../lambdas/adapters/rate-limiter.js";
import { createReportRepository } from "../../lambdas/adapters/report-repository.js";
import { recordScannerHealth } from "../../lambdas/adapters/scanner-health.js";
import { makeReportPageHandler, REPORT_PAGE_PATHS } from "../../lambdas/handlers/report-page.js";
import { makeReportsHandler, REPORT_RATE_SCOPE } from "../../lambdas/handlers/reports.js";
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
  const store = createReportRepository(client, tables.reports);
  const keys = createKeyRepository(client, tables.keys);
  const alerts = createOutboxAlertPublisher(ctx.paths.outbox);
  const reports = makeReportsHandler({
    recordFindings: createFindingRecorder({ client, tables, clock: ctx.clock }),
    reports: store,
    saveMisuse: (record) => store.save(record),
    alertSecurityTeam: (alert) => alerts.publish(alert),
    keyByKeyId: async (keyId) => {
      const key = await keys.getByKeyId(keyId);
      return key ? { projectId: key.projectId, status: key.status } : undefined;
    },
    recordHealth: (health) => recordScannerHealth(client, tables.state, health),
    rateLimiter: createFixedWindowRateLimiter({
      client,
      table: tables.state,
      scope: REPORT_RATE_SCOPE,
      limit: settings.KEYWATCH_REPORT_RATE_LIMIT,
      windowSeconds: settings.KEYWATCH_REPORT_RATE_WINDOW_SECONDS,
      clock: ctx.clock,
    }),
    ipPepper: ctx.env.secrets.ipPepper,
    keyPrefixes: ctx.settings.keyPrefixes,
    clock: ctx.clock,
  });
  return [
    ...REPORT_PAGE_PATHS.map((path): Route => ({ method: "GET", path, handler: page })),
    { method: "POST", path: "/reports", handler: reports },
  ];
}
