// Country database: GeoLite2 / DB-IP schema (country.iso_code, registered_country.iso_code)
// and the ip-location-db schema (country_code). Read once at start; lookups are in memory.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Reader, type CountryResponse } from 'maxmind';
import type { CountryLookup } from '../restrictions/chain';

interface CountryRecord {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  country_code?: string;
}

export const BUNDLED_GEOIP_DB = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb';

export interface GeoDatabase extends CountryLookup {
  path: string;
  databaseType: string;
  buildDate: Date;
}

export function openGeoDatabase(path: string | undefined): GeoDatabase {
  const file = path ?? require.resolve(BUNDLED_GEOIP_DB);
  const reader = new Reader<CountryResponse>(readFileSync(file));
  return {
    path: file,
    databaseType: reader.metadata.databaseType,
    buildDate: reader.metadata.buildEpoch,
    country(ip: string): string | undefined {
      // maxmind answers garbage for strings that are not addresses (e.g. "1.2.3").
      if (isIP(ip) === 0) return undefined;
      // Typed as GeoLite2, but ip-location-db files carry country_code instead.
      const record = reader.get(ip) as CountryRecord | null;
      if (record === null) return undefined;
      const code = record.country?.iso_code ?? record.registered_country?.iso_code ?? record.country_code;
      return code === undefined ? undefined : code.toUpperCase();
    },
  };
}
