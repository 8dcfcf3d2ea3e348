import { type AccessLogRecord, isRejection, type LineRejection, parseAccessLogLine } from "../access-log.js";
import { ipPrefix } from "../ip-prefix.js";
import { MINUTE_MS } from "./anomaly.js";

/** Who announces a network: its autonomous system, the provider's name and whether it rents servers. */
export interface NetworkOwner {
  asn: number;
  /** Normalised organisation name (`amazon`, `deutsche telekom`): the unit of "a new provider". */
  provider: string;
  /** Cloud, hosting, VPN or anonymiser space: where an attacker rents an address by the hour. */
  hosting: boolean;
}

/** Resolves a truncated network to an ISO country code, or undefined; never anything finer. */
export type CountryResolver = (cidr: string) => string | undefined;
/** Resolves a truncated network to the AS that announces it, or undefined (unrouted, private). */
export type NetworkOwnerResolver = (cidr: string) => NetworkOwner | undefined;

/** One request, reduced to what the detectors use; the address is already its /24 or /48. */
export interface TrafficRecord {
  time: number;
  minute: number;
  cidr: string;
  owner: NetworkOwner | undefined;
  country: string | undefined;
  family: string | undefined;
  status: number | undefined;
  keyId: string | undefined;
  projectId: string | undefined;
}

/** Four decimal octets 0-255 without leading zeros (what ipPrefix accepts as IPv4). */
const DOTTED_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export type SkipReason = LineRejection | "bad_ip";

/** Statuses the key authorizer answers an unknown, invalid, compromised or revoked key with. */
export function isAuthFailure(status: number | undefined): boolean {
  return status === 401 || status === 403;
}

/** Throttled (429) or failed (5xx): a retry, not demand (issue 15 point 1). */
export function isRetryable(status: number | undefined): boolean {
  return status === 429 || (status !== undefined && status >= 500);
}

/**
 * A batch of access-log lines parsed, truncated and enriched (country, network owner, client
 * family) before the engine sees them; bad lines are counted by reason, never fatal.
 */
export class TrafficBatch {
  readonly records: TrafficRecord[] = [];
  readonly skipped: Record<SkipReason, number> = {
    oversized: 0,
    not_json: 0,
    bad_shape: 0,
    duplicate_key: 0,
    bad_ip: 0,
  };
  accepted = 0;
  private readonly prefixCache = new Map<string, string | null>();

  constructor(
    private readonly resolveCountry: CountryResolver,
    private readonly resolveOwner: NetworkOwnerResolver = () => undefined,
  ) {}

  get skippedTotal(): number {
    const s = this.skipped;
    return s.oversized + s.not_json + s.bad_shape + s.duplicate_key + s.bad_ip;
  }

  addLine(line: string): void {
    const parsed = parseAccessLogLine(line);
    if (isRejection(parsed)) this.skipped[parsed]++;
    else this.add(parsed);
  }

  add(record: AccessLogRecord): void {
    const cidr = this.truncate(record.ip);
    if (cidr === undefined) {
      this.skipped.bad_ip++;
      return;
    }
    this.accepted++;
    this.records.push({
      time: record.time,
      minute: Math.floor(record.time / MINUTE_MS),
      cidr,
      owner: this.resolveOwner(cidr),
      country: record.country ?? this.resolveCountry(cidr),
      family: record.clientFamily,
      status: record.status,
      keyId: record.keyId,
      projectId: record.projectId,
    });
  }

  /** Truncation: a fast path for plain dotted IPv4, else ipPrefix() memoised per address. */
  private truncate(ip: string): string | undefined {
    if (DOTTED_IPV4.test(ip)) return `${ip.slice(0, ip.lastIndexOf("."))}.0/24`;
    const cached = this.prefixCache.get(ip);
    if (cached !== undefined) return cached ?? undefined;
    let cidr: string | null = null;
    try {
      cidr = ipPrefix(ip).cidr;
    } catch {
      // Invalid address: counted as bad_ip by the caller.
    }
    if (this.prefixCache.size > 100_000) this.prefixCache.clear();
    this.prefixCache.set(ip, cidr);
    return cidr ?? undefined;
  }
}
