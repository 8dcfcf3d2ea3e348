import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Reader, type Response } from "mmdb-lib";
import type { CountryResolver } from "../domain/anomaly/traffic-batch.js";

/** The CC0 IP→country database (ip-location-db, geo-whois-asn-country): country codes only. */
export const GEO_DB_FILE = "geo-whois-asn-country.mmdb";

export function bundledGeoDbPath(): string {
  return createRequire(import.meta.url).resolve(`@ip-location-db/geo-whois-asn-country-mmdb/${GEO_DB_FILE}`);
}

export class GeoDatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "GeoDatabaseError";
  }
}

const COUNTRY = /^[A-Z]{2}$/;
const CACHE_LIMIT = 50_000;

/**
 * Offline country lookup, loaded once (cold start). It is asked about a truncated network's
 * base address only, so nothing finer than a country is ever derived from a client address.
 */
export function createCountryResolver(path: string = bundledGeoDbPath()): CountryResolver {
  if (!existsSync(path)) throw new GeoDatabaseError(`IP→country database not found at ${path}`);
  // ip-location-db's records are `{ country_code }`, not MaxMind's nested shapes.
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(readFileSync(path));
  } catch (error) {
    throw new GeoDatabaseError(`IP→country database at ${path} is unreadable`, { cause: error });
  }
  const cache = new Map<string, string | null>();
  return (cidr) => {
    const cached = cache.get(cidr);
    if (cached !== undefined) return cached ?? undefined;
    let country: string | null = null;
    try {
      const record = reader.get(cidr.slice(0, cidr.indexOf("/"))) as { country_code?: unknown } | null;
      const code = record?.country_code;
      if (typeof code === "string" && COUNTRY.test(code)) country = code;
    } catch {
      // Unroutable or odd address: no country rather than a failed batch.
    }
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(cidr, country);
    return country ?? undefined;
  };
}
