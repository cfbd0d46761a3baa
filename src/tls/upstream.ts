// Client TLS options for an https:// target from the service's upstream_tls, for the forwarder.
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import type { UpstreamTlsConfig } from '../config/types';

export type UpstreamTlsOptions = Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized' | 'servername'>;

/**
 * Without upstream_tls: today's behaviour (system roots; Node picks SNI and the verified name,
 * from the forwarded Host header when there is one). `ca` replaces the system roots;
 * `server_name` sets SNI and the verified name. For a per-service https.Agent in the forwarder.
 * Reads the CA file; a read error is thrown with the path in the message.
 */
export async function upstreamTlsOptions(cfg: UpstreamTlsConfig | undefined): Promise<UpstreamTlsOptions> {
  if (cfg === undefined) return { rejectUnauthorized: true };
  const out: UpstreamTlsOptions = { rejectUnauthorized: !cfg.insecureSkipVerify };
  if (cfg.ca !== undefined) {
    try {
      out.ca = await readFile(cfg.ca, 'utf8');
    } catch (err) {
      throw new Error(`${cfg.ca}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (cfg.serverName !== undefined) out.servername = cfg.serverName;
  return out;
}
