import type { Finding, FindingOutcome, RecordFindings } from "../../lambdas/domain/finding.js";

/** A RecordFindings that keeps what it was given (the detection channel's side of the port). */
export function collectingRecorder(): { record: RecordFindings; findings: Finding[] } {
  const findings: Finding[] = [];
  const record: RecordFindings = async (batch) => {
    findings.push(...batch);
    return batch.map(
      (finding): FindingOutcome => ({
        keyHash: finding.keyHash,
        status: "unknown",
        incidentId: `inc-${finding.keyHash.slice(0, 8)}`,
        newOccurrence: true,
      }),
    );
  };
  return { record, findings };
}

/** A clock the test moves by hand; starts at real time because DynamoDB Local expires items by TTL. */
export function manualClock(start = Date.now()) {
  let now = start;
  return {
    now: () => new Date(now),
    ms: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
