// Host header → http service. Exact names first, then "*.parent" for exactly one extra label.
import type { HttpServiceRuntime } from '../services';

export class HostRouter {
  private readonly exact = new Map<string, HttpServiceRuntime>();
  private readonly wildcard = new Map<string, HttpServiceRuntime>();

  constructor(services: Iterable<HttpServiceRuntime>) {
    for (const service of services) {
      for (const domain of service.config.domains) {
        if (domain.startsWith('*.')) this.wildcard.set(domain.slice(2), service);
        else this.exact.set(domain, service);
      }
    }
  }

  match(hostHeader: string | undefined): HttpServiceRuntime | undefined {
    if (hostHeader === undefined) return undefined;
    const host = hostWithoutPort(hostHeader);
    const found = this.exact.get(host);
    if (found !== undefined || this.wildcard.size === 0) return found;
    const dot = host.indexOf('.');
    return dot > 0 ? this.wildcard.get(host.slice(dot + 1)) : undefined;
  }
}

export function hostWithoutPort(hostHeader: string): string {
  let host = hostHeader;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    host = end > 0 ? host.slice(0, end + 1) : host;
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
  }
  if (host.charCodeAt(host.length - 1) === 46 /* trailing dot */) host = host.slice(0, -1);
  return hasUpperCase(host) ? host.toLowerCase() : host;
}

function hasUpperCase(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}
