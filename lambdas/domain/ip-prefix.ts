import { createHmac } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";

/** Bits kept when an address is truncated: a /24 is one small network, a /48 one site. */
export const IPV4_PREFIX_BITS = 24;
export const IPV6_PREFIX_BITS = 48;

export class InvalidIpAddressError extends Error {
  constructor(options?: { cause?: unknown }) {
    // The address itself is left out: it is personal data and must not reach a log line.
    super("not an IPv4 or IPv6 address", options);
    this.name = "InvalidIpAddressError";
  }
}

export interface IpPrefix {
  family: 4 | 6;
  /** Truncated network in CIDR notation, e.g. `203.0.113.0/24` or `2001:db8:1::/48`. */
  cidr: string;
}

function ipv4Prefix(octets: readonly number[]): IpPrefix {
  return { family: 4, cidr: `${octets[0]}.${octets[1]}.${octets[2]}.0/${IPV4_PREFIX_BITS}` };
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted IPv4 folded in). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  const last = text.slice(lastColon + 1);
  if (last.includes(".")) {
    const octets = last.split(".").map(Number) as [number, number, number, number];
    tail.push((octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]);
    text = `${text.slice(0, lastColon + 1)}0`;
  }
  const [head = "", rest] = text.split("::");
  const parse = (part: string) =>
    part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16));
  const left = parse(head);
  const right = parse(rest ?? "");
  // The dotted tail was parsed as one placeholder group; drop it in favour of its two groups.
  if (tail.length > 0) {
    if (right.length > 0) right.pop();
    else left.pop();
  }
  const fill = rest === undefined ? 0 : 8 - tail.length - left.length - right.length;
  return [...left, ...new Array<number>(fill).fill(0), ...right, ...tail];
}

/**
 * Truncates a client address before it is stored or keyed on: IPv4 to its /24, IPv6 to its /48,
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`) to the IPv4 /24. Zone ids (`%eth0`) are ignored.
 */
export function ipPrefix(address: string): IpPrefix {
  const trimmed = address.trim().replace(/%.*$/, "");
  if (isIPv4(trimmed)) return ipv4Prefix(trimmed.split(".").map(Number));
  if (!isIPv6(trimmed)) throw new InvalidIpAddressError();
  const groups = ipv6Groups(trimmed.toLowerCase());
  const isMapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (isMapped) {
    const high = groups[6] as number;
    const low = groups[7] as number;
    return ipv4Prefix([high >> 8, high & 0xff, low >> 8]);
  }
  const kept = groups.slice(0, IPV6_PREFIX_BITS / 16).map((group) => group.toString(16));
  return { family: 6, cidr: `${kept.join(":")}::/${IPV6_PREFIX_BITS}` };
}

/** HMAC-SHA256 of `value` under `secret`, lowercase hex. */
export function hmacSha256Hex(secret: string, value: string): string {
  return createHmac("sha256", secret).update(value, "utf8").digest("hex");
}

/**
 * A stable pseudonym for the client's network: HMAC(pepper, truncated prefix). Without the
 * pepper it can't be reversed by enumerating the 2^24 IPv4 prefixes.
 */
export function pseudonymousClientId(address: string, pepper: string): string {
  return hmacSha256Hex(pepper, ipPrefix(address).cidr);
}
