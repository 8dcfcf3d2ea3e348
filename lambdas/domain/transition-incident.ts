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

/** The person acted on a version of the incident that has changed since (another analyst, a new occurrence). */
export class StaleIncidentError extends Error {
  constructor(
    readonly current: Incident,
    readonly expectedVersion: number,
  ) {
    super(`incident ${current.incidentId} changed (version ${expectedVersion} → ${current.version})`);
    this.name = "StaleIncidentError";
  }
}

const MAX_ATTEMPTS = 10;

export interface TransitionOptions {
  /** Why; kept in the audit entry and as the incident's `triageReason`. */
  reason?: string;
  /** The version the person saw: if the incident changed since, nothing happens (StaleIncidentError). */
  expectedVersion?: number;
}

/** A person acting on an incident (console, CLI): checks the allowed moves and appends the audit entry. */
export async function transitionIncident(
  incidentId: string,
  action: TransitionAction,
  actor: string,
  deps: { incidents: IncidentRepository; clock: Clock },
  options: TransitionOptions = {},
): Promise<Incident> {
  const rule = TRANSITIONS[action];
  const to = rule.to;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await deps.incidents.get(incidentId);
    if (!current) throw new IncidentNotFoundError(incidentId);
    if (options.expectedVersion !== undefined && current.version !== options.expectedVersion)
      throw new StaleIncidentError(current, options.expectedVersion);
    if (!rule.from.includes(current.state))
      throw new TransitionNotAllowedError(incidentId, action, current.state);
    const at = deps.clock.now().toISOString();
    const moved = await deps.incidents.transition(current, to, {
      incidentId,
      at,
      action: rule.audit,
      from: current.state,
      to,
      actor,
      ...(options.reason !== undefined ? { reason: options.reason, version: current.version } : {}),
    } as Parameters<IncidentRepository["transition"]>[2]);
    if (moved)
      return {
        ...current,
        state: to,
        updatedAt: at,
        version: current.version + 1,
        ...(options.reason !== undefined ? { triageReason: options.reason } : {}),
      };
  }
  throw new TransitionNotAllowedError(incidentId, action, "changing (concurrent updates)");
}
