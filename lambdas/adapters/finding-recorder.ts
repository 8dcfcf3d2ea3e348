import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type Finding, FindingSchema, type Location, type RecordFindings } from "../domain/finding.js";
import { recordFindings } from "../domain/record-findings.js";
import { holdsAnyKey } from "../domain/text-normalisation.js";
import { type Clock, systemClock } from "./clock.js";
import { createIncidentRepository } from "./dynamodb-incident-repository.js";
import { createKeyRepository } from "./dynamodb-key-repository.js";
import type { TableNames } from "./table-specs.js";
import { createUnknownKeyWindows } from "./unknown-key-windows.js";

export interface FindingRecorderDeps {
  client: DynamoDBDocumentClient;
  tables: Pick<TableNames, "keys" | "incidents">;
  clock?: Clock;
}

/**
 * The RecordFindings every detection channel calls, bound to the DynamoDB repositories.
 * Findings are validated here too (zod), so a channel's bug can't write a malformed incident.
 */
export function createFindingRecorder(deps: FindingRecorderDeps): RecordFindings {
  const useCaseDeps = {
    keys: createKeyRepository(deps.client, deps.tables.keys),
    incidents: createIncidentRepository(deps.client, deps.tables.incidents),
    unknownKeys: createUnknownKeyWindows(deps.client, deps.tables.incidents),
    clock: deps.clock ?? systemClock,
  };
  return async (findings, options) => recordFindings(findings.map(validFinding), useCaseDeps, options);
}

export class InvalidFindingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InvalidFindingError";
  }
}

function validFinding(finding: Finding, index: number): Finding {
  const parsed = FindingSchema.safeParse(finding);
  if (parsed.success) return { ...parsed.data, location: withoutKeys(parsed.data.location) };
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
  throw new InvalidFindingError(`finding ${index} is invalid: ${problems}`, { cause: parsed.error });
}

/**
 * The last guard before anything is stored: a location field that holds a key (plain, or
 * percent-/entity-encoded, or split by invisible characters) is dropped, whichever channel sent it.
 */
export function withoutKeys(location: Location): Location {
  const kept: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(location)) {
    if (typeof value === "string" && holdsAnyKey(value)) continue;
    kept[field] = value;
  }
  return kept as Location;
}
