import { timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/**
 * Who sent a request when keywatch's optional CloudFront front is on (lib/constructs/edge-protection.ts).
 *
 * Behind CloudFront, API Gateway's `sourceIp` is an edge server's address, shared by every
 * visitor of that edge: a per-network budget keyed on it lets one script spend everyone's. The
 * front therefore sends two headers a client can't forge: a viewer-request CloudFront Function
 * sets `VIEWER_ADDRESS_HEADER` to the viewer's IP (overwriting any value the client sent), and the
 * origin adds `ORIGIN_VERIFY_HEADER` with a secret (CloudFront replaces a viewer header of the same
 * name with the origin's custom header). A request without the secret did not come through the
 * front: it went to the execute-api URL directly, around the WAF, and is refused.
 */
export const VIEWER_ADDRESS_HEADER = "x-keywatch-viewer-address";
export const ORIGIN_VERIFY_HEADER = "x-keywatch-origin-verify";

export type ClientAddress =
  | { kind: "address"; ip: string }
  /** The front is on but this request didn't come through it (or its viewer header is not an IP). */
  | { kind: "bypassed_front" };

function header(headers: Record<string, string | undefined> | undefined, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === name) return value;
  return undefined;
}

function sameSecret(sent: string, expected: string): boolean {
  const a = Buffer.from(sent, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The client's IP: API Gateway's source address when there is no front (`originVerify`
 * undefined), the viewer address CloudFront vouched for when there is one.
 */
export function clientAddress(
  request: { sourceIp: string; headers?: Record<string, string | undefined> },
  originVerify: string | undefined,
): ClientAddress {
  if (originVerify === undefined) return { kind: "address", ip: request.sourceIp };
  const sent = header(request.headers, ORIGIN_VERIFY_HEADER);
  if (sent === undefined || !sameSecret(sent, originVerify)) return { kind: "bypassed_front" };
  const viewer = header(request.headers, VIEWER_ADDRESS_HEADER)?.trim() ?? "";
  return isIP(viewer) ? { kind: "address", ip: viewer } : { kind: "bypassed_front" };
}
