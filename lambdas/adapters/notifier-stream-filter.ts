/**
 * Lambda event-filter patterns for the incidents stream: only the changes planNotifications acts
 * on invoke the notifier (an incident opened, an incident reopened, a reported occurrence added);
 * counter updates, audit entries and people's transitions don't. The deployed event source
 * mapping uses them as FilterCriteria, and the local stream pump applies the same patterns
 * (`matchesStreamFilters` below), so both see the same records.
 * Syntax: https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 */
export const NOTIFIER_STREAM_FILTERS: ReadonlyArray<Record<string, unknown>> = [
  // An incident opened (first opening; always `open`).
  { eventName: ["INSERT"], dynamodb: { NewImage: { entity: { S: ["incident"] } } } },
  // Reopened after resolution: `open` now, something else before (opening + 1).
  {
    eventName: ["MODIFY"],
    dynamodb: {
      NewImage: { entity: { S: ["incident"] }, state: { S: ["open"] } },
      OldImage: { state: { S: [{ "anything-but": ["open"] }] } },
    },
  },
  // A location from a user report: its own `report_received` alert.
  {
    eventName: ["INSERT"],
    dynamodb: { NewImage: { entity: { S: ["occurrence"] }, reportId: { S: [{ exists: true }] } } },
  },
];

type Pattern = Record<string, unknown>;

/**
 * Does a stream record (as Lambda delivers it) match one of `patterns`? The subset of Lambda's
 * filter syntax the patterns above use: exact strings, `anything-but` and `exists`, nested
 * objects; a pattern matches when every key it names matches (OR across patterns).
 */
export function matchesStreamFilters(record: unknown, patterns: ReadonlyArray<Pattern>): boolean {
  return patterns.some((pattern) => matchObject(record, pattern));
}

function matchObject(value: unknown, pattern: Pattern): boolean {
  const object = value !== null && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  return Object.entries(pattern).every(([name, expected]) => {
    const actual = object?.[name];
    if (Array.isArray(expected)) return expected.some((rule) => matchRule(actual, rule));
    return matchObject(actual, expected as Pattern);
  });
}

function matchRule(actual: unknown, rule: unknown): boolean {
  if (rule !== null && typeof rule === "object") {
    const r = rule as { exists?: boolean; "anything-but"?: unknown[] };
    if (r.exists !== undefined) return (actual !== undefined) === r.exists;
    if (r["anything-but"]) return actual !== undefined && !r["anything-but"].includes(actual);
    return false;
  }
  return actual === rule;
}
