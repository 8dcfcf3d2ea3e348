import type { Clock } from "./clock.js";
import { type Incident, type IncidentRepository, TRANSITIONS, type TransitionAction } from "./incident.js";

export class IncidentNotFoundError extends Error {
  constructor(incidentId: string) {
    super(`incident ${incidentId} not found`);
    this.name = "IncidentNotFoundError";
  }
}

export class TransitionNotAllowedError extends Error {
  constructor(
    readonly incidentId: string,
    readonly action: TransitionAction,
    readonly state: string,
  ) {
    super(`incident ${incidentId}: cannot ${action} from state ${state}`);
    this.name = "TransitionNotAllowedError";
  }
}

const MAX_ATTEMPTS = 10;

/** A person acting on an incident (console, CLI): checks the allowed moves and appends the audit entry. */
export async function transitionIncident(
  incidentId: string,
  action: TransitionAction,
  actor: string,
  deps: { incidents: IncidentRepository; clock: Clock },
): Promise<Incident> {
  const rule = TRANSITIONS[action];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await deps.incidents.get(incidentId);
    if (!current) throw new IncidentNotFoundError(incidentId);
    if (!rule.from.includes(current.state))
      throw new TransitionNotAllowedError(incidentId, action, current.state);
    const at = deps.clock.now().toISOString();
    const moved = await deps.incidents.transition(current, rule.to, {
      incidentId,
      at,
      action: rule.audit,
      from: current.state,
      to: rule.to,
      actor,
    });
    if (moved) return { ...current, state: rule.to, updatedAt: at, version: current.version + 1 };
  }
  throw new TransitionNotAllowedError(incidentId, action, "changing (concurrent updates)");
}
