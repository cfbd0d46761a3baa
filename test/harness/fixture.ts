// The one set-up most end-to-end tests need: an upstream, the binary in front of it with a
// services.yaml that points at it, and both stopped when the test ends.
import type http from 'node:http';
import { startDaemon, type Daemon, type StartDaemonOptions } from './daemon';
import { freePort } from './ports';
import { startHttpUpstream, startTcpEcho, type HttpUpstream, type TcpUpstream } from './upstreams';

interface Teardown {
  teardown(fn: () => unknown): void;
}

type DaemonOptions = Omit<StartDaemonOptions, 'config'>;

/** One http service `web` on app.example.com; `access` is the YAML of its access block, if any. */
export function webService(upstream: HttpUpstream, access?: string): string {
  return `services:
  - name: web
    protocol: http
    domains: [app.example.com]
    target: ${upstream.url}
${access === undefined ? '' : `    access:\n      ${access}\n`}`;
}

/** An HTTP upstream (answering with `handler`, or JSON of what it received) and the proxy in front of it. */
export async function httpFixture(
  t: Teardown,
  opts: DaemonOptions & { handler?: http.RequestListener; config?: (upstream: HttpUpstream) => string } = {},
): Promise<{ daemon: Daemon; upstream: HttpUpstream }> {
  const { handler, config, ...daemonOpts } = opts;
  const upstream = await startHttpUpstream(handler);
  const daemon = await startDaemon({ ...daemonOpts, config: (config ?? webService)(upstream) });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  return { daemon, upstream };
}

/** A TCP echo upstream and a tcp service `echo` on a free local port in front of it. */
export async function tcpFixture(
  t: Teardown,
  opts: DaemonOptions & { access?: string } = {},
): Promise<{ daemon: Daemon; echo: TcpUpstream; listenPort: number }> {
  const { access, ...daemonOpts } = opts;
  const echo = await startTcpEcho();
  const listenPort = await freePort();
  const daemon = await startDaemon({
    ...daemonOpts,
    config: `services:
  - name: echo
    protocol: tcp
    listen: 127.0.0.1:${listenPort}
    target: 127.0.0.1:${echo.port}
${access === undefined ? '' : `    access:\n      ${access}\n`}`,
  });
  t.teardown(async () => {
    await daemon.stop();
    await echo.close();
  });
  return { daemon, echo, listenPort };
}
