import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { z } from "zod";
import { systemClock } from "../../lambdas/adapters/clock.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import {
  INCIDENT_STATES,
  type Incident,
  TRANSITIONS,
  type TransitionAction,
} from "../../lambdas/domain/incident.js";
import {
  IncidentNotFoundError,
  TransitionNotAllowedError,
  transitionIncident,
} from "../../lambdas/domain/transition-incident.js";
import { openLocalEnvironment } from "../local/local-environment.js";
import { readLocalSettings } from "../local/settings.js";

const USAGE = [
  "usage: keywatch incidents list [--json] [--state S] [--unknown] [--limit N]",
  "       keywatch incidents show <incidentId>",
  "       keywatch incidents acknowledge|resolve|false_positive|reopen <incidentId> [--actor NAME]",
].join("\n");

const ListOptionsSchema = z.object({
  state: z.enum(INCIDENT_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});
const IncidentIdSchema = z.string().regex(/^inc_[0-9a-f]{20}$/, "expected an incident id (inc_ + 20 hex)");

/** `keywatch incidents list|show|<transition>` against the local tables. */
export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      unknown: { type: "boolean" },
      state: { type: "string" },
      limit: { type: "string" },
      actor: { type: "string" },
    },
  });
  const [action, id] = positionals;
  const isTransition = action !== undefined && action in TRANSITIONS;
  if (action !== "list" && action !== "show" && !isTransition)
    return usage("expected list, show or a transition");
  const options = ListOptionsSchema.safeParse(values);
  if (!options.success)
    return usage(options.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; "));
  const incidentId = action === "list" ? undefined : IncidentIdSchema.safeParse(id);
  if (incidentId && !incidentId.success)
    return usage(incidentId.error.issues[0]?.message ?? "incident id required");

  const env = await openLocalEnvironment(readLocalSettings());
  try {
    const incidents = createIncidentRepository(env.client, env.tables.incidents);
    if (action === "list") {
      const found: Incident[] = [];
      let cursor: string | undefined;
      do {
        const page = await incidents.list({
          kind: values.unknown ? "unknown_key" : "leaked_key",
          ...(options.data.state ? { state: options.data.state } : {}),
          limit: 100,
          ...(cursor ? { cursor } : {}),
        });
        found.push(...page.incidents);
        cursor = page.cursor;
      } while (cursor && found.length < options.data.limit);
      const shown = found.slice(0, options.data.limit);
      if (values.json) for (const incident of shown) process.stdout.write(`${JSON.stringify(incident)}\n`);
      else printTable(shown);
      return 0;
    }
    const idValue = incidentId?.success ? incidentId.data : "";
    if (action === "show") {
      const details = await incidents.details(idValue);
      if (!details) {
        process.stderr.write(`keywatch incidents: ${idValue} not found\n`);
        return 1;
      }
      process.stdout.write(`${JSON.stringify(details, null, 2)}\n`);
      return 0;
    }
    const actor = `user:${values.actor ?? userInfo().username}`;
    const moved = await transitionIncident(idValue, action as TransitionAction, actor, {
      incidents,
      clock: systemClock,
    });
    process.stdout.write(`${JSON.stringify({ incidentId: moved.incidentId, state: moved.state })}\n`);
    return 0;
  } catch (error) {
    if (error instanceof IncidentNotFoundError || error instanceof TransitionNotAllowedError) {
      process.stderr.write(`keywatch incidents: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await env.close();
  }
}

function usage(message: string): number {
  process.stderr.write(`keywatch incidents: ${message}\n${USAGE}\n`);
  return 2;
}

function printTable(incidents: Incident[]): void {
  const row = (cells: string[]) =>
    `${cells.map((c, i) => c.padEnd([25, 16, 15, 16, 12, 6][i] ?? 0)).join(" ")}\n`;
  process.stdout.write(
    row(["incident", "redacted", "state", "project", "occurrences", "opening", "updated"]),
  );
  for (const i of incidents) {
    process.stdout.write(
      row([
        i.incidentId,
        i.redacted,
        i.state,
        i.projectId ?? "-",
        String(i.occurrenceCount),
        String(i.opening),
        i.updatedAt,
      ]),
    );
  }
}
