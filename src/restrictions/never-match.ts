// Access rules that no client can ever pass, found from the config alone (validate warns; they
// are valid, only useless): a CIDR allow list of private networks only together with a country
// allow list (private and reserved addresses have no country), and an allow list that the deny
// list covers entirely.
import ipaddr from 'ipaddr.js';
import type { AccessConfig } from '../config/types';

type Net = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** Networks that no country database places in a country. */
const NO_COUNTRY: readonly Net[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/3',
  '::1/128',
  '::/128',
  'fc00::/7',
  'fe80::/10',
  '2001:db8::/32',
].map((c) => ipaddr.parseCIDR(c));

function parse(cidr: string): Net | undefined {
  try {
    return ipaddr.parseCIDR(cidr);
  } catch {
    return undefined;
  }
}

/** True when every address of `inner` is in `outer`. */
function within(inner: Net, outer: Net): boolean {
  return inner[0].kind() === outer[0].kind() && inner[1] >= outer[1] && inner[0].match(outer);
}

/** One sentence per rule that can never match (empty when the rules are satisfiable). */
export function neverMatching(access: AccessConfig): string[] {
  const out: string[] = [];
  const allow = access.cidr.allow.map(parse).filter((n): n is Net => n !== undefined);
  if (allow.length === 0) return out;
  const deny = access.cidr.deny.map(parse).filter((n): n is Net => n !== undefined);
  if (allow.every((a) => deny.some((d) => within(a, d)))) {
    out.push(`field "access.cidr.allow": every network in it is also inside access.cidr.deny, so no client can ever match: every request is denied`);
  }
  if (access.countries.allow.length > 0 && allow.every((a) => NO_COUNTRY.some((p) => within(a, p)))) {
    out.push(
      `field "access.countries.allow": access.cidr.allow admits only private or reserved addresses, which have no country, so no client can ever match both: every request is denied (drop one of the two allow lists)`,
    );
  }
  return out;
}
