import { parseArgs } from "node:util";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { createDocumentClient, SDK_DEADLINES } from "../../lambdas/adapters/dynamodb-client.js";
import { TABLES } from "../../lambdas/adapters/table-specs.js";
import { createWatchListStore, type WatchListAdmin } from "../../lambdas/adapters/watch-list-store.js";
import { targetName, type WatchEntry, WatchTargetSchema } from "../../lambdas/domain/watch-list.js";
import { readLocalSettings } from "../local/settings.js";
import { withLocalTables } from "./command-frame.js";
import { ProjectIdSchema } from "./keys.js";

const USAGE = [
  "usage: keywatch watch add --project P OWNER|OWNER/REPO",
  "       keywatch watch list [--json] [--project P]",
  "       keywatch watch remove --project P OWNER|OWNER/REPO",
].join("\n");

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

function entryJson(entry: WatchEntry) {
  return {
    project: entry.project,
    target: targetName(entry.target),
    kind: entry.target.kind,
    id: entry.target.id,
    addedAt: entry.addedAt,
  };
}

/**
 * `keywatch watch add|list|remove`: the GitHub owners and repositories whose every push the watcher
 * diffs (issue 12 point 4), against the local tables (same settings as `keywatch start`). Adding
 * and removing are idempotent; names are checked against GitHub's naming rules first.
 */
export async function run(args: string[]): Promise<number> {
  try {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { project: { type: "string" }, json: { type: "boolean" } },
    });
    const [action, ...rest] = positionals;
    if (action !== "add" && action !== "list" && action !== "remove") {
      throw new UsageError("expected add, list or remove");
    }
    const project =
      values.project === undefined && action === "list"
        ? undefined
        : ProjectIdSchema.safeParse(values.project);
    if (project && !project.success) {
      throw new UsageError(
        `--project: ${values.project === undefined ? "required" : project.error.issues[0]?.message}`,
      );
    }
    const settings = readLocalSettings();
    if (action === "list") {
      if (rest.length > 0) throw new UsageError("list takes no target");
      return await withWatchList(settings, async (store) => {
        const entries = (await store.listEntries())
          .filter((entry) => !project?.data || entry.project === project.data)
          .sort((a, b) => a.project.localeCompare(b.project) || a.target.id.localeCompare(b.target.id));
        if (values.json) {
          for (const entry of entries) process.stdout.write(`${JSON.stringify(entryJson(entry))}\n`);
        } else {
          process.stdout.write(
            `${["project".padEnd(20), "target".padEnd(40), "kind".padEnd(6), "added"].join(" ")}\n`,
          );
          for (const entry of entries) {
            const row = entryJson(entry);
            process.stdout.write(
              `${[row.project.padEnd(20), row.target.padEnd(40), row.kind.padEnd(6), row.addedAt].join(" ")}\n`,
            );
          }
        }
        return 0;
      });
    }
    if (rest.length !== 1) throw new UsageError(`${action} takes one OWNER or OWNER/REPO`);
    const target = WatchTargetSchema.safeParse(rest[0]);
    if (!target.success) throw new UsageError(target.error.issues[0]?.message ?? "invalid target");
    const projectId = project?.data as string;
    return await withWatchList(settings, async (store) => {
      if (action === "add") {
        const added = await store.add({
          project: projectId,
          target: target.data,
          addedAt: systemClock.now().toISOString(),
        });
        process.stderr.write(
          added
            ? `watching ${targetName(target.data)} for project ${projectId}: every push is diffed from now on\n`
            : `${targetName(target.data)} was already watched for project ${projectId}\n`,
        );
        return 0;
      }
      const removed = await store.remove(projectId, target.data);
      process.stderr.write(
        removed
          ? `stopped watching ${targetName(removed.target)} for project ${projectId}\n`
          : `${targetName(target.data)} was not watched for project ${projectId}\n`,
      );
      return 0;
    });
  } catch (error) {
    const usage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    if (usage) {
      process.stderr.write(`keywatch watch: ${(error as Error).message}\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
}

/**
 * The local tables (a running `keywatch start`'s DynamoDB Local, or one started here); or, with
 * `WATCH_LIST_TABLE` set, that table as it is: the deployed one (the stack's `WatchListTableName`
 * output, AWS credentials and region from the environment, `DYNAMODB_ENDPOINT` honoured).
 */
async function withWatchList(
  settings: ReturnType<typeof readLocalSettings>,
  use: (store: WatchListAdmin) => Promise<number>,
): Promise<number> {
  const table = process.env[TABLES.watchList.envVar];
  if (!table) {
    return withLocalTables(settings, (env) =>
      use(createWatchListStore({ client: env.client, tableName: env.tables.watchList })),
    );
  }
  const endpoint = process.env.DYNAMODB_ENDPOINT;
  const client = createDocumentClient(endpoint ? { endpoint } : {}, SDK_DEADLINES.interactive);
  try {
    return await use(createWatchListStore({ client, tableName: table }));
  } finally {
    client.destroy();
  }
}
