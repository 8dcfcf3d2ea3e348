import { type Finding, FindingSchema, type Location } from "./finding.js";
import { blobUrl, capDiff, type PushToScan, type ScannableText } from "./github-events.js";
import { scanBuffer } from "./key-scanner.js";
import { scanFreeText } from "./text-normalisation.js";

/**
 * Findings from one public event, located the way the events poller locates them (source
 * `github_event`): text with its `html_url`, kind and line; a push diff's key at its blob line.
 * Shared by the events poller and the watcher.
 */

function finding(keyHash: string, redacted: string, location: Location, seenAt: string): Finding {
  return FindingSchema.parse({ keyHash, redacted, source: "github_event", location, seenAt });
}

/** Keys in an event's text (decoded forms too: event text is written by anyone). */
export function textFindings(
  item: ScannableText,
  repo: string,
  prefixes: readonly string[],
  seenAt: string,
): Finding[] {
  return scanFreeText(item.text, prefixes).map((f) => {
    const location: Location = { url: item.url, repo, kind: item.kind, line: f.line };
    if (item.path) location.path = item.path;
    if (item.commit) location.commit = item.commit;
    return finding(f.keyHash, f.redacted, location, seenAt);
  });
}

/**
 * Findings in a push's diff parts, each pointing at the part's commit (the head for a compare, the
 * commit itself for a truncated compare's fallback), with the poller's caps applied to every part.
 */
export function scanPushDiff(
  push: PushToScan,
  parts: readonly { commit: string; text: string }[],
  settings: { prefixes: readonly string[]; maxDiffFiles: number; maxDiffBytes: number; webUrl: string },
  seenAt: string,
): { findings: Finding[]; bytesScanned: number; truncated: number } {
  const findings: Finding[] = [];
  let bytesScanned = 0;
  let truncated = 0;
  for (const part of parts) {
    const capped = capDiff(part.text, { maxFiles: settings.maxDiffFiles, maxBytes: settings.maxDiffBytes });
    if (capped.truncated) truncated++;
    bytesScanned += Buffer.byteLength(capped.text, "utf8");
    for (const f of scanBuffer(capped.text, { prefixes: settings.prefixes, mode: "diff" })) {
      const location: Location = { repo: push.repo, commit: part.commit, kind: "push" };
      if (f.path) {
        location.path = f.path;
        location.line = f.line;
        location.url = blobUrl(settings.webUrl, push.repo, part.commit, f.path, f.line);
      } else {
        location.url = `${settings.webUrl}/${push.repo}/commit/${part.commit}`;
      }
      findings.push(finding(f.keyHash, f.redacted, location, seenAt));
    }
  }
  return { findings, bytesScanned, truncated };
}
