// Which auth guards a request: the service's, or on a routed service its route's (a route may have
// its own `auth:`, or `auth: off`). The proxy's own pages (/.netbird-proxy/auth/...) belong to the
// route they return to (`rd`), so that /admin/'s login checks /admin/'s password.
import { AUTH_PREFIX, returnPathOf } from '../auth/request';
import type { ServiceAuth } from '../auth/service';
import type { HttpServiceRuntime } from '../services';
import type { RouteRuntime } from '../service-routes';

export function authOf(service: HttpServiceRuntime, route: RouteRuntime | undefined, url: string | undefined): ServiceAuth | undefined {
  if (route === undefined || service.routing === undefined) return service.auth;
  if (url === undefined || !url.startsWith(AUTH_PREFIX)) return route.auth;
  const rd = returnPathOf(url);
  return rd === undefined ? route.auth : (service.routing.match(rd).auth ?? route.auth);
}

/** Whether any part of the service has a login: its session secret is needed at load. */
export function serviceUsesAuth(service: HttpServiceRuntime): boolean {
  return service.auth !== undefined || (service.routing?.routes.some((r) => r.auth !== undefined) ?? false);
}
