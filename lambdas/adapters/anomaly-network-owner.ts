import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { NetworkOwner, NetworkOwnerResolver } from "../domain/anomaly/traffic-batch.js";

/** RouteViews + RIR + DB-IP IP→ASN data (CC BY 4.0), refreshed by the package's daily releases. */
export const ASN_DB_FILE = "asn-ipv4-num.csv";

export function bundledAsnDbPath(): string {
  return createRequire(import.meta.url).resolve(`@ip-location-db/asn/${ASN_DB_FILE}`);
}

export class AsnDatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AsnDatabaseError";
  }
}

/**
 * Cloud, hosting and anonymiser networks: where an address is rented by the hour. The ASNs are
 * the providers' own (AWS 16509/14618, Google Cloud 396982/15169, Azure 8075, ...); the name
 * pattern catches the long tail of VPS hosts. Consumer ISPs and carriers match neither.
 */
const HOSTING_ASNS = new Set([
  16509, 14618, 8987, 396982, 15169, 19527, 8075, 8068, 14061, 24940, 16276, 20473, 12876, 8560, 63949, 45102,
  37963, 31898, 13335, 132203, 51167, 9009, 60781, 60068, 199524, 60729, 208323, 212238, 53667, 36352, 62240,
  40021, 46606, 19318, 29802, 25820, 174, 20454, 201814, 136787, 209, 35916, 200651, 395092, 13238, 21859,
]);
const HOSTING_NAME =
  /\b(hosting|host|server|servers|cloud|data ?cent(er|re)|datacamp|vps|colo|dedicated|digitalocean|hetzner|ovh|linode|vultr|leaseweb|contabo|scaleway|choopa|tor\b|vpn|proxy|erneuerbare freiheit)/i;

/** `Amazon.com, Inc.` → `amazon`; `Deutsche Telekom AG` → `deutsche telekom`: one provider, many ASNs. */
export function providerName(organisation: string): string {
  const words = organisation
    .toLowerCase()
    .replace(/\.(com|net|org)\b/g, "")
    .replace(/[^a-z0-9 ]+/g, " ")
    .split(" ")
    .filter(
      (w) =>
        w &&
        !/^(inc|llc|ltd|limited|gmbh|ag|sa|sas|s|a|p|corp|corporation|co|plc|bv|the|company|communications|pty|spa)$/.test(
          w,
        ),
    );
  return words.slice(0, 2).join(" ") || "unknown";
}

/**
 * Offline IPv4 → AS lookup, loaded once per cold start (~400 k ranges into typed arrays, binary
 * search), asked only about a truncated network's base address. IPv6 networks resolve to no
 * owner (documented limitation: the detectors then see the provider "unknown").
 */
export function createNetworkOwnerResolver(path: string = bundledAsnDbPath()): NetworkOwnerResolver {
  if (!existsSync(path)) throw new AsnDatabaseError(`IP→ASN database not found at ${path}`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new AsnDatabaseError(`IP→ASN database at ${path} is unreadable`, { cause: error });
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const owners: number[] = [];
  const byAsn = new Map<number, number>();
  const table: NetworkOwner[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const a = line.indexOf(",");
    const b = line.indexOf(",", a + 1);
    const c = line.indexOf(",", b + 1);
    const asn = Number(line.slice(b + 1, c));
    if (!Number.isSafeInteger(asn)) continue;
    let index = byAsn.get(asn);
    if (index === undefined) {
      const organisation = line.slice(c + 1).replace(/^"|"$/g, "");
      index = table.length;
      table.push({
        asn,
        provider: providerName(organisation),
        hosting: HOSTING_ASNS.has(asn) || HOSTING_NAME.test(organisation),
      });
      byAsn.set(asn, index);
    }
    starts.push(Number(line.slice(0, a)));
    ends.push(Number(line.slice(a + 1, b)));
    owners.push(index);
  }
  if (starts.length === 0) throw new AsnDatabaseError(`IP→ASN database at ${path} has no ranges`);
  const s = Float64Array.from(starts);
  const e = Float64Array.from(ends);
  const o = Uint32Array.from(owners);
  const cache = new Map<string, NetworkOwner | null>();
  return (cidr) => {
    const cached = cache.get(cidr);
    if (cached !== undefined) return cached ?? undefined;
    let owner: NetworkOwner | null = null;
    const parts = cidr.slice(0, cidr.indexOf("/")).split(".");
    if (parts.length === 4) {
      const n =
        ((Number(parts[0]) * 256 + Number(parts[1])) * 256 + Number(parts[2])) * 256 + Number(parts[3]);
      let lo = 0;
      let hi = s.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if ((s[mid] as number) <= n) lo = mid + 1;
        else hi = mid - 1;
      }
      if (hi >= 0 && (e[hi] as number) >= n) owner = table[o[hi] as number] ?? null;
    }
    if (cache.size >= 50_000) cache.clear();
    cache.set(cidr, owner);
    return owner ?? undefined;
  };
}
