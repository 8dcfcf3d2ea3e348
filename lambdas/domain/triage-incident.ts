import type { Clock } from "./clock.js";
import type { Incident, IncidentRepository } from "./incident.js";
import type { IncidentQueue } from "./incident-queue.js";
import { IncidentNotFoundError, StaleIncidentError } from "./transition-incident.js";

type TriageDeps = { incidents: IncidentRepository & IncidentQueue; clock: Clock };

/** Gives the incident to a person (or takes it back with `undefined`); audited, version-checked. */
export async function assignIncident(
  incidentId: string,
  assignee: string | undefined,
  actor: string,
  deps: TriageDeps,
  expectedVersion?: number,
): Promise<Incident & { assignee?: string }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await deps.incidents.get(incidentId);
    if (!current) throw new IncidentNotFoundError(incidentId);
    if (expectedVersion !== undefined && current.version !== expectedVersion)
      throw new StaleIncidentError(current, expectedVersion);
    const at = deps.clock.now().toISOString();
    const done = await deps.incidents.assign(current, assignee, {
      incidentId,
      at,
      action: "assigned",
      actor,
      version: current.version,
      ...(assignee ? { assignee } : {}),
    });
    if (done) {
      const { assignee: _previous, ...rest } = current as Incident & { assignee?: string };
      return { ...rest, version: current.version + 1, ...(assignee ? { assignee } : {}) };
    }
  }
  throw new Error(`incident ${incidentId}: could not assign (concurrent updates)`);
}

/** A note in the incident's audit trail; comments never conflict, so no version check. */
export async function commentOnIncident(
  incidentId: string,
  comment: string,
  actor: string,
  deps: TriageDeps,
): Promise<{ at: string }> {
  const current = await deps.incidents.get(incidentId);
  if (!current) throw new IncidentNotFoundError(incidentId);
  const at = deps.clock.now().toISOString();
  await deps.incidents.comment({ incidentId, at, action: "commented", actor, comment });
  return { at };
}
