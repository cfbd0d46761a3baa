// A service as the data path uses it: its config plus what is compiled from it once per load.
import type { HttpServiceConfig, ServiceConfig, TcpServiceConfig } from './config/types';
import type { UpstreamTarget } from './forward/http';
import { compileAuth, type ServiceAuth } from './auth/service';
import type { CompiledAccess } from './restrictions/chain';
import { compileAccess } from './restrictions/compile';

export interface HttpServiceRuntime {
  readonly name: string;
  readonly config: HttpServiceConfig;
  readonly access: CompiledAccess;
  readonly target: UpstreamTarget;
  readonly auth?: ServiceAuth;
}

export interface TcpServiceRuntime {
  readonly name: string;
  readonly config: TcpServiceConfig;
  readonly access: CompiledAccess;
}

export type ServiceRuntime = HttpServiceRuntime | TcpServiceRuntime;

export function buildServiceRuntime(config: ServiceConfig): ServiceRuntime {
  const access = compileAccess(config.access);
  if (config.protocol === 'http') {
    // Same shape with or without auth: the request path reads service.auth on every request.
    const auth = config.auth === undefined ? undefined : compileAuth(config.auth);
    return { name: config.name, config, access, target: { service: config.name, url: config.target }, auth };
  }
  return { name: config.name, config, access };
}
