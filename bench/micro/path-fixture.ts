// The fixture of the per-request path micro-benchmark: the services, the trusted proxies, a
// StreamBouncer holding the decisions, and client addresses that miss or hit them.
import pino from 'pino';
import { StreamBouncer } from '../../src/crowdsec/stream/bouncer';
import { until } from '../../test/harness/clients';
import { startFakeLapi } from '../../test/harness/fake-lapi';
import { mixedDecisions, prng, renderStartupBody } from '../lib/decisions';

export const TRUSTED_PROXIES = ['10.0.0.0/8'];

/** web-off (crowdsec off), web (enforce) and web-xff (enforce, reached through a trusted proxy). */
export const SERVICES_YAML = `services:
  - name: web-off
    protocol: http
    domains: [off.bench.local]
    target: http://127.0.0.1:9
    access: { crowdsec: off }
  - name: web
    protocol: http
    domains: [bench.local, www.bench.local]
    target: http://127.0.0.1:9
    access: { crowdsec: enforce }
  - name: web-xff
    protocol: http
    domains: [xff.bench.local, '*.apps.bench.local']
    target: http://127.0.0.1:9
    access: { crowdsec: enforce }
`;

/** A StreamBouncer synced from the fake LAPI (the 1M mixed startup response), then stopped: the
 * daemon's lookup object with its store full, and no I/O left running. */
export async function syncedBouncer(count: number): Promise<{ bouncer: StreamBouncer; syncMs: number }> {
  const fake = await startFakeLapi({});
  const body = renderStartupBody(count);
  fake.setStartupStream(() => body.chunks);
  const bouncer = new StreamBouncer({
    settings: { apiUrl: fake.url, apiKey: fake.apiKey, pollIntervalMs: 3_600_000, caCertPath: undefined, certPath: undefined, keyPath: undefined },
    log: pino({ level: 'silent' }),
  });
  const t0 = Date.now();
  bouncer.start();
  await until('bouncer synced', () => bouncer.synced, 300_000);
  const syncMs = Date.now() - t0;
  await bouncer.stop();
  await fake.close();
  return { bouncer, syncMs };
}

/** Public addresses no decision covers: 80 % IPv4, 20 % IPv6. */
export function missAddresses(n: number, bouncer: StreamBouncer, now: number): string[] {
  const rnd = prng(0xc0ffee);
  const out: string[] = [];
  while (out.length < n) {
    let ip: string;
    if (rnd() < 0.8) {
      const a = 1 + Math.floor(rnd() * 222);
      if (a === 10 || a === 127) continue;
      ip = `${a}.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`;
    } else {
      const g = [0x2001 + Math.floor(rnd() * 0xdff), ...Array.from({ length: 7 }, () => Math.floor(rnd() * 65536))];
      ip = g.map((x) => x.toString(16)).join(':');
    }
    if (bouncer.lookup(ip, now) === undefined) out.push(ip);
  }
  return out;
}

/** Addresses with a decision, spread over the whole set: exact IPv4/IPv6 values and the first
 * address of ranges. */
export function hitAddresses(n: number, count: number, bouncer: StreamBouncer, now: number): string[] {
  const stride = Math.max(1, Math.floor(count / n));
  const out: string[] = [];
  let i = 0;
  for (const d of mixedDecisions(count)) {
    if (out.length >= n) break;
    if (i++ % stride !== 0) continue;
    const ip = d.scope === 'Range' ? d.value.slice(0, d.value.indexOf('/')) : d.value;
    if (bouncer.lookup(ip, now) !== undefined) out.push(ip);
  }
  if (out.length < n) throw new Error(`only ${out.length} hit addresses found`);
  return out;
}
