// Typed services.yaml, produced once by the loader and never re-validated downstream.

export type CrowdSecMode = 'off' | 'enforce' | 'observe';

/** A CIDR in canonical form, e.g. "10.0.0.0/8" or "2001:db8::/32"; a bare address becomes /32 or /128. */
export type CanonicalCidr = string;

export interface AccessConfig {
  cidr: { allow: CanonicalCidr[]; deny: CanonicalCidr[] };
  /** Upper-case ISO 3166-1 alpha-2 codes. */
  countries: { allow: string[]; deny: string[] };
  crowdsec: CrowdSecMode;
}

export interface HostPort {
  host: string;
  port: number;
}

export interface HttpServiceConfig {
  name: string;
  protocol: 'http';
  /** Lower-case; "*.example.org" matches exactly one label in front of example.org. */
  domains: string[];
  target: URL;
  access: AccessConfig;
}

export interface TcpServiceConfig {
  name: string;
  protocol: 'tcp';
  listen: HostPort;
  target: HostPort;
  access: AccessConfig;
}

export type ServiceConfig = HttpServiceConfig | TcpServiceConfig;

export interface ServicesConfig {
  /** Path of the file it was read from, for messages. */
  file: string;
  /** The text it was parsed from, so that a reload can tell a real change from a touch. */
  text: string;
  services: ServiceConfig[];
}
