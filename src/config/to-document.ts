// A validated config written back in services.yaml form, with every value in its canonical
// spelling and every default filled in. Loading the result gives the same config again.
import { formatHostPort } from './addr';
import type { AccessConfig, ServiceConfig, ServicesConfig } from './types';

export interface AccessDocument {
  cidr: { allow: string[]; deny: string[] };
  countries: { allow: string[]; deny: string[] };
  crowdsec: AccessConfig['crowdsec'];
  appsec: AccessConfig['appsec']['mode'] | { mode: AccessConfig['appsec']['mode']; skip_paths: string[] };
}

export type ServiceDocument =
  | { name: string; protocol: 'http'; domains: string[]; target: string; access: AccessDocument }
  | { name: string; protocol: 'tcp'; listen: string; target: string; access: AccessDocument };

export interface ServicesDocument {
  services: ServiceDocument[];
}

function accessDocument(a: AccessConfig): AccessDocument {
  return {
    cidr: { allow: [...a.cidr.allow], deny: [...a.cidr.deny] },
    countries: { allow: [...a.countries.allow], deny: [...a.countries.deny] },
    crowdsec: a.crowdsec,
    appsec: a.appsec.skipPaths.length === 0 ? a.appsec.mode : { mode: a.appsec.mode, skip_paths: [...a.appsec.skipPaths] },
  };
}

function serviceDocument(s: ServiceConfig): ServiceDocument {
  if (s.protocol === 'http') {
    return { name: s.name, protocol: 'http', domains: [...s.domains], target: s.target.origin, access: accessDocument(s.access) };
  }
  return { name: s.name, protocol: 'tcp', listen: formatHostPort(s.listen), target: formatHostPort(s.target), access: accessDocument(s.access) };
}

export function toServicesDocument(config: ServicesConfig): ServicesDocument {
  return { services: config.services.map(serviceDocument) };
}
