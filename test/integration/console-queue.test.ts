import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { createAnomalyRepository } from "../../lambdas/adapters/anomaly-repository.js";
import { fixedClock } from "../../lambdas/adapters/clock.js";
import { createConsoleAnomalies } from "../../lambdas/adapters/console-anomalies.js";
import { createIncidentRepository } from "../../lambdas/adapters/dynamodb-incident-repository.js";
import { generateKey, redactKey } from "../../lambdas/domain/key-format.js";
import { makeConsoleApiHandler } from "../../lambdas/handlers/console-api.js";
import { createTestTables, type TestTables } from "../support/dynamodb.js";
import { httpEvent } from "../support/http-event.js";
import { type SeededIncident, seedIncidents } from "../support/incident-fixtures.js";

const clock = fixedClock("2026-03-10T12:00:00.000Z");
const COUNT = 180;

/** Records every DynamoDB command the API sends, so a test can prove no table is scanned. */
function recording(client: DynamoDBDocumentClient, sent: string[]): DynamoDBDocumentClient {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === "send")
        return (command: { constructor: { name: string } }) => {
          sent.push(command.constructor.name);
          return target.send(command as never);
        };
      return Reflect.get(target, property, receiver);
    },
  });
}

interface World {
  t: TestTables;
  seeded: SeededIncident[];
  sent: string[];
  api: ReturnType<typeof makeConsoleApiHandler>;
  reader: ReturnType<typeof makeConsoleApiHandler>;
}

let w: World;

beforeAll(async () => {
  const t = await createTestTables();
  const sent: string[] = [];
  const client = recording(t.client, sent);
  const seeded = await seedIncidents(t.client, t.names.incidents, COUNT, {
    now: clock.now(),
  });
  const deps = {
    incidents: createIncidentRepository(client, t.names.incidents),
    anomalies: createConsoleAnomalies(client, t.names.anomalies, clock),
    clock,
    actorOf: () => "user:alice",
  };
  w = {
    t,
    seeded,
    sent,
    api: makeConsoleApiHandler(deps),
    reader: makeConsoleApiHandler({ ...deps, actorOf: () => "user:rita", canAct: () => false }),
  };
}, 60_000);

function body(result: { body?: string }) {
  return JSON.parse(result.body ?? "null");
}

async function listAll(query: Record<string, string>): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = body(
      await w.api(httpEvent("GET /api/incidents", { query: { ...query, ...(cursor ? { cursor } : {}) } })),
    );
    ids.push(...page.incidents.map((i: { incidentId: string }) => i.incidentId));
    cursor = page.cursor;
    pages += 1;
  } while (cursor && pages < 100);
  return { ids, pages };
}

function expected(filter: (s: SeededIncident) => boolean): string[] {
  return w.seeded
    .filter(filter)
    .map((s) => s.incident.incidentId)
    .sort();
}

function post(api: World["api"], routeKey: string, payload: unknown, id?: string) {
  return api(
    httpEvent(routeKey, {
      ...(id ? { pathParameters: { id } } : {}),
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    }),
  );
}

describe("the incident queue", () => {
  it("reaches every open-work incident through the cursor, once each, newest update first", async () => {
    const { ids } = await listAll({ state: "open_work", limit: "25" });
    const openWork = expected(
      (s) =>
        s.incident.kind === "leaked_key" && ["open", "notified", "acknowledged"].includes(s.incident.state),
    );
    const byId = new Map(w.seeded.map((s) => [s.incident.incidentId, s.incident.updatedAt]));
    const times = ids.map((id) => byId.get(id) ?? "");
    expect({ ids: [...ids].sort(), ordered: times.join() === [...times].sort().reverse().join() }).toEqual({
      ids: openWork,
      ordered: true,
    });
  });

  it("counts incidents per state", async () => {
    const page = body(await w.api(httpEvent("GET /api/incident-counts")));
    const counts: Record<string, number> = {};
    for (const s of w.seeded.filter((s) => s.incident.kind === "leaked_key"))
      counts[s.incident.state] = (counts[s.incident.state] ?? 0) + 1;
    expect(Object.fromEntries(Object.entries(page.counts).filter(([, n]) => n))).toEqual(counts);
  });

  it("sorts by opening time", async () => {
    const page = body(
      await w.api(httpEvent("GET /api/incidents", { query: { sort: "opened", state: "all", limit: "100" } })),
    );
    const opened = page.incidents.map((i: { openedAt: string }) => i.openedAt);
    expect(opened).toEqual([...opened].sort().reverse());
  });

  it("sorts by severity, highest first", async () => {
    const { ids } = await listAll({ sort: "severity", state: "all", limit: "50" });
    const rank = { high: 3, medium: 2, low: 1 } as Record<string, number>;
    const severityOf = new Map(w.seeded.map((s) => [s.incident.incidentId, rank[s.incident.severity] ?? 0]));
    const ranks = ids.map((id) => severityOf.get(id) ?? 0);
    expect({
      all: ids.length,
      sorted: ranks.join() === [...ranks].sort().reverse().join(),
      low: ranks.includes(1),
    }).toEqual({
      all: expected((s) => s.incident.kind === "leaked_key").length,
      sorted: true,
      low: true,
    });
  });

  it("filters by project, source and severity together, paging through every match", async () => {
    const { ids } = await listAll({ state: "all", project: "billing", source: "github_event", limit: "3" });
    expect(ids.sort()).toEqual(
      expected(
        (s) =>
          s.incident.kind === "leaked_key" &&
          s.incident.projectId === "billing" &&
          s.incident.sources.includes("github_event"),
      ),
    );
    const medium = await listAll({ state: "all", severity: "medium", limit: "10" });
    expect(medium.ids.sort()).toEqual(
      expected((s) => s.incident.kind === "leaked_key" && s.incident.severity === "medium"),
    );
  });

  it("lists unknown keys apart from leaked keys", async () => {
    const { ids } = await listAll({ kind: "unknown_key", state: "all", limit: "50" });
    expect(ids.sort()).toEqual(expected((s) => s.incident.kind === "unknown_key"));
  });

  it("finds an incident by key id, key hash, redacted key, repository and URL", async () => {
    const target = w.seeded.find((s) => s.incident.kind === "leaked_key") as SeededIncident;
    const { incident } = target;
    const search = async (q: string) =>
      body(await w.api(httpEvent("GET /api/incidents", { query: { q, state: "all" } }))).incidents.map(
        (i: { incidentId: string }) => i.incidentId,
      );
    const sameRepo = expected((s) => s.repo === target.repo && s.incident.kind === "leaked_key");
    expect({
      keyId: await search(incident.keyId),
      hash: await search(incident.keyHash),
      redacted: await search(incident.redacted.replace("…", "...")),
      url: await search(target.url),
      repo: (await search(target.repo)).sort(),
      repoUrl: (await search(`https://github.com/${target.repo}`)).sort(),
      other: await search(redactKey(generateKey())),
    }).toEqual({
      keyId: [incident.incidentId],
      hash: [incident.incidentId],
      redacted: [incident.incidentId],
      url: [incident.incidentId],
      repo: sameRepo,
      repoUrl: sameRepo,
      other: [],
    });
  });

  it("never scans a table", () => {
    expect([w.sent.length > 0, w.sent.filter((name) => name.startsWith("Scan"))]).toEqual([true, []]);
  });
});

describe("acting on incidents", () => {
  it("resolves many at once with the reason in each audit trail", async () => {
    const targets = w.seeded
      .filter((s) => s.incident.kind === "leaked_key" && s.incident.state === "notified")
      .slice(0, 20);
    const result = body(
      await post(w.api, "POST /api/incidents/bulk-actions", {
        action: "resolve",
        reason: "keys rotated by the platform team",
        incidents: targets.map((s) => ({ id: s.incident.incidentId, expectedVersion: s.incident.version })),
      }),
    );
    const audit = await Promise.all(
      targets.map(async (s) => {
        const details = body(
          await w.api(
            httpEvent("GET /api/incidents/{id}", { pathParameters: { id: s.incident.incidentId } }),
          ),
        );
        const entry = details.audit.find((a: { action: string }) => a.action === "resolved");
        return [details.incident.state, entry?.reason, entry?.actor];
      }),
    );
    expect({ done: result.done, audit: new Set(audit.map((a) => a.join("|"))) }).toEqual({
      done: 20,
      audit: new Set(["resolved|keys rotated by the platform team|user:alice"]),
    });
  });

  it("refuses a bulk action without a reason", async () => {
    const target = w.seeded.find((s) => s.incident.state === "open") as SeededIncident;
    const result = await post(w.api, "POST /api/incidents/bulk-actions", {
      action: "resolve",
      incidents: [{ id: target.incident.incidentId }],
    });
    expect(result.statusCode).toBe(400);
  });

  it("tells a stale tab the current state and what changed, and changes nothing", async () => {
    const target = w.seeded.find(
      (s) => s.incident.kind === "leaked_key" && s.incident.state === "open",
    ) as SeededIncident;
    const id = target.incident.incidentId;
    const seen = body(await w.api(httpEvent("GET /api/incidents/{id}", { pathParameters: { id } })));
    await post(
      w.api,
      "POST /api/incidents/{id}/actions",
      { action: "acknowledge", reason: "on it", expectedVersion: seen.incident.version },
      id,
    );
    const late = await post(
      w.api,
      "POST /api/incidents/{id}/actions",
      {
        action: "false_positive",
        reason: "test key",
        expectedVersion: seen.incident.version,
        since: seen.readAt,
      },
      id,
    );
    const answer = body(late);
    expect({
      status: late.statusCode,
      state: answer.current.state,
      changes: answer.changes.map((c: { text: string; actor: string }) => [c.text, c.actor]),
    }).toEqual({
      status: 409,
      state: "acknowledged",
      changes: [["Acknowledged (open → acknowledged)", "user:alice"]],
    });
  });

  it("reopens to open", async () => {
    const target = w.seeded.find(
      (s) => s.incident.kind === "leaked_key" && s.incident.state === "resolved",
    ) as SeededIncident;
    const result = body(
      await post(
        w.api,
        "POST /api/incidents/{id}/actions",
        { action: "reopen", reason: "seen again" },
        target.incident.incidentId,
      ),
    );
    expect(result.incident.state).toBe("open");
  });

  it("assigns and comments, both in the timeline", async () => {
    const target = w.seeded.find(
      (s) => s.incident.kind === "leaked_key" && s.incident.state === "acknowledged",
    ) as SeededIncident;
    const id = target.incident.incidentId;
    const assigned = await post(w.api, "POST /api/incidents/{id}/assignee", { assignee: "bob" }, id);
    clock.advance(1000);
    const commented = await post(
      w.api,
      "POST /api/incidents/{id}/comments",
      { comment: "owner says it was a test project" },
      id,
    );
    const details = body(await w.api(httpEvent("GET /api/incidents/{id}", { pathParameters: { id } })));
    expect({
      statuses: [assigned.statusCode, commented.statusCode],
      assignee: details.incident.assignee,
      timeline: details.timeline
        .filter((e: { kind: string }) => e.kind !== "detection")
        .map((e: { text: string }) => e.text),
    }).toEqual({
      statuses: [200, 201],
      assignee: "bob",
      timeline: ["Incident opened", "Assigned to bob", "owner says it was a test project"],
    });
  });

  it("refuses a comment that holds a key", async () => {
    const target = w.seeded[0] as SeededIncident;
    const result = await post(
      w.api,
      "POST /api/incidents/{id}/comments",
      { comment: `found ${generateKey()} in a gist` },
      target.incident.incidentId,
    );
    expect(result.statusCode).toBe(400);
  });

  it("lets a reader read but not act", async () => {
    const target = w.seeded.find((s) => s.incident.state === "open") as SeededIncident;
    const me = body(await w.reader(httpEvent("GET /api/me")));
    const list = await w.reader(httpEvent("GET /api/incidents"));
    const acted = await post(
      w.reader,
      "POST /api/incidents/{id}/actions",
      { action: "resolve", reason: "x" },
      target.incident.incidentId,
    );
    expect([me.canAct, list.statusCode, acted.statusCode]).toEqual([false, 200, 403]);
  });
});

describe("anomaly triage", () => {
  it("filters anomalies and stores an acknowledgement as the item's triage map", async () => {
    const anomalies = createAnomalyRepository(w.t.client, w.t.names.anomalies, { clock });
    const at = (h: number) => new Date(Date.parse("2026-03-10T00:00:00.000Z") + h * 3_600_000).toISOString();
    await anomalies.save([
      {
        subject: "KEY#00000000000000a1",
        anomaly: {
          type: "rate_spike",
          severity: "high",
          keyId: "00000000000000a1",
          windowStart: at(1),
          windowEnd: at(2),
          count: 40,
        },
      },
      {
        subject: "KEY#00000000000000a2",
        anomaly: {
          type: "new_country",
          severity: "medium",
          keyId: "00000000000000a2",
          countries: ["NZ"],
          windowStart: at(2),
          windowEnd: at(3),
          count: 3,
        },
      },
      {
        subject: "KEY#00000000000000a1",
        anomaly: {
          type: "new_country",
          severity: "low",
          keyId: "00000000000000a1",
          countries: ["FR"],
          windowStart: at(-30),
          windowEnd: at(-29),
          count: 1,
        },
      },
    ]);
    const highs = body(await w.api(httpEvent("GET /api/anomalies", { query: { severity: "high" } })));
    const id = highs.anomalies[0].id;
    const triaged = await post(w.api, "POST /api/anomalies/triage", {
      ids: [id],
      state: "acknowledged",
      reason: "load test by the owner",
    });
    const untriaged = body(await w.api(httpEvent("GET /api/anomalies", { query: { triage: "untriaged" } })));
    const acknowledged = body(
      await w.api(httpEvent("GET /api/anomalies", { query: { triage: "acknowledged" } })),
    );
    expect({
      highs: highs.anomalies.map((a: { type: string }) => a.type),
      status: triaged.statusCode,
      untriaged: untriaged.anomalies.map(
        (a: { type: string; countries: string[] }) => `${a.type}:${a.countries}`,
      ),
      triage: acknowledged.anomalies.map((a: { triage: Record<string, string> }) => [
        a.triage.state,
        a.triage.by,
        a.triage.reason,
      ]),
    }).toEqual({
      highs: ["rate_spike"],
      status: 200,
      untriaged: ["new_country:NZ", "new_country:FR"],
      triage: [["acknowledged", "user:alice", "load test by the owner"]],
    });
  });
});
