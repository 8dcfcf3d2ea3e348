import { type Finding, FindingSchema, type Location } from "./finding.js";
import { blobUrl, capDiff, type PushToScan, type ScannableText } from "./github-events.js";
import { scanBuffer } from "./key-scanner.js";
import { scanFreeText } from "./text-normalisation.js";

/**
 * Findings from one public event, located the way the events poller locates them (source
 * `github_event`): text with its `html_url`, kind and line; a push diff's key at its blob line.
 * The watcher uses these; the poller's own copies in poll-events.ts can move here on merge.
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

/** Keys on the added lines of a push's diff, capped like the poller's (files, bytes). */
export function pushDiffFindings(
  diff: string,
  push: PushToScan,
  settings: { prefixes: readonly string[]; webUrl: string; maxDiffFiles: number; maxDiffBytes: number },
  seenAt: string,
): { findings: Finding[]; bytes: number; truncated: boolean } {
  const capped = capDiff(diff, { maxFiles: settings.maxDiffFiles, maxBytes: settings.maxDiffBytes });
  const findings = scanBuffer(capped.text, { prefixes: settings.prefixes, mode: "diff" }).map((f) => {
    const location: Location = { repo: push.repo, commit: push.head, kind: "push" };
    if (f.path) {
      location.path = f.path;
      location.line = f.line;
      location.url = blobUrl(settings.webUrl, push.repo, push.head, f.path, f.line);
    } else {
      location.url = `${settings.webUrl}/${push.repo}/commit/${push.head}`;
    }
    return finding(f.keyHash, f.redacted, location, seenAt);
  });
  return { findings, bytes: Buffer.byteLength(capped.text, "utf8"), truncated: capped.truncated };
}
