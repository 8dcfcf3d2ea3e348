import { createWatcherCycle } from "../../lambdas/adapters/github-watcher-cycle.js";
import { watchProgressLine } from "../../lambdas/adapters/watch-metrics.js";
import type { RecordFindings } from "../../lambdas/domain/finding.js";
import type { WatchSettings } from "../../lambdas/domain/poll-watched-feeds.js";
import { every, type Service, type ServiceContext } from "./local-services.js";

/**
 * The watch-list watcher in `npm start` (issue 12 point 4): the Lambda's cycle (lease, health,
 * metrics' counters) on an in-process schedule, against the stand-in or the configured GitHub.
 * `keywatch watch add` while it runs takes effect on the next run.
 */
export function startGitHubWatcher(
  ctx: ServiceContext & { recordFindings: RecordFindings },
  github: {
    apiUrl: string;
    token?: string;
    everyMs?: number;
    settings?: Partial<Omit<WatchSettings, "prefixes">>;
  },
): Service {
  const cycle = createWatcherCycle(
    {
      apiUrl: github.apiUrl,
      ...(github.token ? { token: github.token } : {}),
      client: ctx.client,
      stateTable: ctx.tables.state,
      watchListTable: ctx.tables.watchList,
      recordFindings: ctx.recordFindings,
      prefixes: ctx.prefixes,
      now: ctx.now,
      onHealthError: (error) => ctx.log(`github watcher: health not recorded: ${(error as Error).message}`),
    },
    github.settings,
  );
  const schedule = every(
    github.everyMs ?? 5_000,
    async () => {
      const counters = await cycle.run(Date.now() + 25_000);
      if (counters.pushesSeen + counters.findings + counters.feedsUnreachable > 0 || counters.stopped) {
        ctx.log(watchProgressLine(counters));
      }
    },
    (error) => ctx.log(`github watcher: run failed: ${(error as Error).message}`),
  );
  return { name: "github watcher", stop: () => schedule.stop() };
}
