import { type AccessLogRecord, isRejection, type LineRejection, parseAccessLogLine } from "../access-log.js";
import { ipPrefix } from "../ip-prefix.js";
import { MINUTE_MS } from "./anomaly.js";
import { isAuthFailure, stuffingWindowStart } from "./credential-stuffing.js";
import type { AnomalyThresholds } from "./thresholds.js";

/** One key's requests in one minute: counts per truncated network and the countries seen. */
export interface KeyMinuteTraffic {
  minute: number;
  requests: number;
  /** Auth failures (401/403) among them: a refused compromised key shows up here. */
  refused: number;
  /** Truncated CIDR → requests. */
  prefixes: Map<string, number>;
  /** Country → one truncated CIDR it was seen from (evidence). */
  countries: Map<string, string>;
}

export interface KeyTraffic {
  keyId: string;
  projectId?: string;
  requests: number;
  /** Requests the authorizer let through: the key is real even if no registry lookup says so. */
  accepted: number;
  minutes: Map<number, KeyMinuteTraffic>;
}

/** One client network's refused requests in one credential-stuffing window. */
export interface ClientWindowTraffic {
  cidr: string;
  windowStart: number;
  /** Distinct keyIds refused. */
  keyIds: Set<string>;
  refused: number;
}

/** Four decimal octets 0-255 without leading zeros (what ipPrefix accepts as IPv4). */
const DOTTED_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export type SkipReason = LineRejection | "bad_ip";

/** Resolves a truncated network to an ISO country code, or undefined; never anything finer. */
export type CountryResolver = (cidr: string) => string | undefined;

/**
 * A batch of access-log lines folded into per key-minute and per client-window aggregates:
 * the detectors and the state writes work on these, never on single requests.
 */
export class TrafficBatch {
  readonly keys = new Map<string, KeyTraffic>();
  readonly clients = new Map<string, ClientWindowTraffic>();
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
    private readonly thresholds: AnomalyThresholds,
    private readonly resolveCountry: CountryResolver,
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
    const minute = Math.floor(record.time / MINUTE_MS);
    const refused = isAuthFailure(record.status);
    if (refused) this.addRefusal(cidr, minute, record.keyId);
    if (record.keyId === undefined) return;
    let key = this.keys.get(record.keyId);
    if (key === undefined) {
      key = { keyId: record.keyId, requests: 0, accepted: 0, minutes: new Map() };
      this.keys.set(record.keyId, key);
    }
    key.requests++;
    if (!refused && record.status !== undefined && record.status < 500) key.accepted++;
    if (record.projectId !== undefined) key.projectId = record.projectId;
    let bucket = key.minutes.get(minute);
    if (bucket === undefined) {
      bucket = { minute, requests: 0, refused: 0, prefixes: new Map(), countries: new Map() };
      key.minutes.set(minute, bucket);
    }
    bucket.requests++;
    if (refused) bucket.refused++;
    bucket.prefixes.set(cidr, (bucket.prefixes.get(cidr) ?? 0) + 1);
    const country = record.country ?? this.resolveCountry(cidr);
    if (country !== undefined && !bucket.countries.has(country)) bucket.countries.set(country, cidr);
  }

  private addRefusal(cidr: string, minute: number, keyId: string | undefined): void {
    const windowStart = stuffingWindowStart(minute, this.thresholds);
    const id = `${cidr}|${windowStart}`;
    let client = this.clients.get(id);
    if (client === undefined) {
      client = { cidr, windowStart, keyIds: new Set(), refused: 0 };
      this.clients.set(id, client);
    }
    client.refused++;
    if (keyId !== undefined) client.keyIds.add(keyId);
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
