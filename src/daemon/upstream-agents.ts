// Per-service https.Agent for services with upstream_tls (CA, skip-verify, server name); the
// others share the forwarder's agents. A replaced service's agent is left to finish its requests;
// its idle sockets close after the keep-alive timeout like the shared agents'.
import type https from 'node:https';
import { ConfigError } from '../config/errors';
import { UpstreamHttpsAgent } from '../forward/upstream-agent';
import type { HttpServiceRuntime } from '../services';
import { poolsOf } from '../service-routes';
import { upstreamTlsOptions } from '../tls/upstream';

/** Gives each new runtime with upstream_tls its agent (armed with `upstreamTimeoutMs`); a CA file that cannot be read is a ConfigError and no agent is left behind. */
export async function attachUpstreamAgents(fresh: readonly HttpServiceRuntime[], file: string, upstreamTimeoutMs: number): Promise<void> {
  const done: HttpServiceRuntime[] = [];
  try {
    for (const runtime of fresh) {
      const cfg = runtime.config.upstreamTls;
      if (cfg === undefined) continue;
      let options;
      try {
        options = await upstreamTlsOptions(cfg);
      } catch (err) {
        throw new ConfigError((err as Error).message, { file, service: runtime.name, field: 'upstream_tls.ca' }, { cause: err });
      }
      setAgent(runtime, new UpstreamHttpsAgent(upstreamTimeoutMs, options));
      done.push(runtime);
    }
  } catch (err) {
    for (const runtime of done) setAgent(runtime, undefined);
    throw err;
  }
}

/** The service's target and every https:// target of its routes. */
function setAgent(runtime: HttpServiceRuntime, agent: https.Agent | undefined): void {
  runtime.target.agent = agent;
  if (runtime.routing === undefined) return;
  for (const { pool } of poolsOf(runtime.routing)) for (const m of pool.members) if (m.upstream.url.protocol === 'https:') m.upstream.agent = agent;
}
