// Active health checks: the routing core's only I/O. Every `interval`, each target of a pool with
// `health:` is probed (HTTP: GET of the path, any status below 400 is healthy; TCP: a connect),
// and the result goes to recordProbe() with its hysteresis. A probe still running when the next
// is due is not doubled.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ActiveHealthConfig, HostPort } from '../config/types';
import { recordProbe, type TargetState } from './health';

export interface ProbeTarget {
  readonly key: string;
  readonly address: URL | HostPort;
  readonly state: TargetState;
  /** https:// targets: the agent with the service's upstream_tls, if it has one. */
  readonly agent?: http.Agent;
}

export type ProbeFlip = (target: ProbeTarget, up: boolean, error: string | undefined) => void;

/** Starts probing; returns the function that stops it. */
export function startProbes(targets: readonly ProbeTarget[], cfg: ActiveHealthConfig, userAgent: string, onFlip: ProbeFlip): () => void {
  const timers = targets.map((t) => {
    let running = false;
    const tick = (): void => {
      if (running) return;
      running = true;
      probe(t, cfg, userAgent).then(
        (error) => {
          running = false;
          if (recordProbe(t.state, error === undefined, cfg.healthy, cfg.unhealthy, error)) onFlip(t, error === undefined, error);
        },
        () => (running = false),
      );
    };
    const timer = setInterval(tick, cfg.intervalMs);
    timer.unref();
    const first = setTimeout(tick, 0);
    first.unref();
    return { timer, first };
  });
  return () => {
    for (const { timer, first } of timers) {
      clearInterval(timer);
      clearTimeout(first);
    }
  };
}

/** Resolves undefined when healthy, else why not. */
function probe(t: ProbeTarget, cfg: ActiveHealthConfig, userAgent: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const address = t.address;
    if (!(address instanceof URL)) {
      const socket = net.connect({ host: address.host, port: address.port });
      socket.setTimeout(cfg.timeoutMs, () => socket.destroy(new Error(`no connection within ${cfg.timeoutMs} ms`)));
      socket.once('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', (err) => resolve(err.message));
      return;
    }
    const mod = address.protocol === 'https:' ? https : http;
    const req = mod.request(
      {
        protocol: address.protocol,
        hostname: address.hostname.replace(/^\[|\]$/g, ''),
        port: address.port === '' ? undefined : Number(address.port),
        path: cfg.path,
        method: 'GET',
        headers: { host: address.host, 'user-agent': userAgent, connection: 'close' },
        agent: t.agent ?? false,
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve(status < 400 ? undefined : `status ${status}`);
        req.destroy();
      },
    );
    req.setTimeout(cfg.timeoutMs, () => req.destroy(new Error(`no answer within ${cfg.timeoutMs} ms`)));
    req.once('error', (err) => resolve(err.message));
    req.end();
  });
}
