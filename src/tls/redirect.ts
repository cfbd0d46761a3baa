// The 308 from http:// to https:// for services with redirect_https, as the HTTP entrypoint applies it.
import { isHttp01Path } from './acme/challenges';

/**
 * Location for the redirect, or undefined when the request must not be redirected: the service
 * does not ask for it, the path is an ACME http-01 challenge path (answered or not), or there is
 * no usable Host. The port is dropped: HTTPS is published on 443 outside.
 */
export function httpsRedirectLocation(redirectHttps: boolean, host: string | undefined, url: string): string | undefined {
  if (!redirectHttps || isHttp01Path(url)) return undefined;
  if (host === undefined || host === '' || /[\s/\\@?#]/.test(host)) return undefined;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
  if (name === '' || name === '[]') return undefined;
  return `https://${name.toLowerCase()}${url.startsWith('/') ? url : `/${url}`}`;
}
