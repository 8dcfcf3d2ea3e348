import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { seededRandom } from "../../bin/local/seeded-random.js";
import { openingItems } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import type { FindingSource } from "../../lambdas/domain/finding.js";
import {
  type Incident,
  type IncidentKind,
  type IncidentState,
  incidentIdFor,
  locationFingerprint,
  type Severity,
} from "../../lambdas/domain/incident.js";
import { generateKey, keyHash, keyIdOf, redactKey } from "../../lambdas/domain/key-format.js";

export const FIXTURE_PROJECTS = ["billing", "checkout", "search", "mobile-app", "analytics", "support"];
const SOURCES: FindingSource[] = ["github_partner", "github_event", "github_code_search", "user_report"];
/** Roughly what an on-call queue looks like: most work open or notified, a tail of closed ones. */
const STATES: [IncidentState, number][] = [
  ["open", 0.2],
  ["notified", 0.3],
  ["acknowledged", 0.15],
  ["resolved", 0.3],
  ["false_positive", 0.05],
];

export interface SeededIncident {
  incident: Incident;
  repo: string;
  url: string;
}

function pick<T>(random: () => number, weighted: [T, number][]): T {
  let roll = random();
  for (const [value, weight] of weighted) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return (weighted.at(-1) as [T, number])[0];
}

/**
 * Writes `count` incidents with one occurrence each: the very items the repository's `open`
 * writes (`openingItems`, so every index and search term is the adapter's), loaded in batches
 * because thousands of transactions take minutes on DynamoDB Local. Keys are minted at run
 * time; the mix (kinds, states, severities, projects, sources, times) comes from a seeded PRNG.
 */
export async function seedIncidents(
  client: DynamoDBDocumentClient,
  tableName: string,
  count: number,
  options: { seed?: number; now?: Date; concurrency?: number } = {},
): Promise<SeededIncident[]> {
  const random = seededRandom(options.seed ?? 14);
  const now = (options.now ?? new Date()).getTime();
  const seeded: SeededIncident[] = [];
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const raw = generateKey();
    const hash = keyHash(raw);
    const kind: IncidentKind = random() < 0.85 ? "leaked_key" : "unknown_key";
    const state = pick(random, STATES);
    const severity: Severity =
      kind === "unknown_key"
        ? "medium"
        : pick<Severity>(random, [
            ["high", 0.8],
            ["medium", 0.15],
            ["low", 0.05],
          ]);
    const project =
      kind === "leaked_key" ? FIXTURE_PROJECTS[Math.floor(random() * FIXTURE_PROJECTS.length)] : undefined;
    const source = SOURCES[Math.floor(random() * SOURCES.length)] as FindingSource;
    const opened = now - Math.floor(random() * 30 * 86_400_000);
    const updated = Math.min(now, opened + Math.floor(random() * 3 * 86_400_000));
    const repo = `org${i % 37}/service-${i % 11}`;
    const url = `https://github.com/${repo}/blob/${(i * 7919).toString(16).padStart(8, "0")}/config/${i}.env`;
    const incident: Incident = {
      incidentId: incidentIdFor(hash),
      kind,
      keyHash: hash,
      keyId: keyIdOf(hash),
      redacted: redactKey(raw),
      ...(project ? { projectId: project } : {}),
      state,
      severity,
      opening: 1,
      sources: [source],
      occurrenceCount: 1,
      openedAt: new Date(opened).toISOString(),
      updatedAt: new Date(updated).toISOString(),
      lastSeenAt: new Date(opened).toISOString(),
      version: 1,
    };
    const location = { url, repo, path: `config/${i}.env`, line: 1 };
    seeded.push({ incident, repo, url });
    const fingerprint = locationFingerprint(location, source);
    items.push(
      ...openingItems(
        incident,
        {
          incidentId: incident.incidentId,
          fingerprint,
          source,
          location,
          seenAt: incident.openedAt,
          recordedAt: incident.openedAt,
          opening: 1,
        },
        {
          incidentId: incident.incidentId,
          at: incident.openedAt,
          action: "opened",
          to: "open",
          actor: `system:${source}`,
        },
      ),
    );
  }
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let requests = (batches[next++] as Record<string, unknown>[]).map((Item) => ({ PutRequest: { Item } }));
      while (requests.length > 0) {
        const out = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
        requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  return seeded;
}
