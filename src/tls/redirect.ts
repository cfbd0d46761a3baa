// The 308 from http:// to https:// for services with redirect_https, as the HTTP entrypoint applies it.
import { isHttp01Path } from './acme/challenges';

/**
 * --https-redirect-port: the port in the https:// URL. 'auto' (the default) reads the public
 * mapping from the Host header: a client that reached HTTP on the default port 80 (Host without a
 * port) is sent to the default 443, as behind the documented 80→8080 and 443→8443 mapping; a client
 * that named a port (http://host:8080, no mapping) is sent to the HTTPS entrypoint's own port.
 */
export interface HttpsRedirectPort {
  port: number | 'auto';
  /** The HTTPS entrypoint's port (--https-addr). */
  httpsPort: number;
}

/** Parses the --https-redirect-port value: "auto" or 1-65535; undefined when invalid. */
export function parseHttpsRedirectPort(value: string): number | 'auto' | undefined {
  const v = value.trim().toLowerCase();
  if (v === 'auto') return 'auto';
  if (!/^[1-9][0-9]{0,4}$/.test(v) || Number(v) > 65535) return undefined;
  return Number(v);
}

/**
 * Location for the redirect, or undefined when the request must not be redirected: the service
 * does not ask for it, the path is an ACME http-01 challenge path (answered or not), or there is
 * no usable Host.
 */
export function httpsRedirectLocation(
  redirectHttps: boolean,
  host: string | undefined,
  url: string,
  target: HttpsRedirectPort = { port: 'auto', httpsPort: 443 },
): string | undefined {
  if (!redirectHttps || isHttp01Path(url)) return undefined;
  if (host === undefined || host === '' || /[\s/\\@?#]/.test(host)) return undefined;
  const bracket = host.startsWith('[') ? host.indexOf(']') + 1 : 0;
  const colon = host.indexOf(':', bracket);
  const name = bracket > 0 ? host.slice(0, bracket) : colon >= 0 ? host.slice(0, colon) : host;
  if (name === '' || name === '[]') return undefined;
  const hostPort = colon >= 0 ? host.slice(colon + 1) : '';
  const port = target.port !== 'auto' ? target.port : hostPort === '' || hostPort === '80' ? 443 : target.httpsPort;
  return `https://${name.toLowerCase()}${port === 443 ? '' : `:${port}`}${url.startsWith('/') ? url : `/${url}`}`;
}
