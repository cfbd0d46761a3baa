// The servers shared by the scenarios, started once per run: the HTTP upstream (nginx `return
// 200`) and the TCP upstreams (Node echo/source), nginx (HTTP proxy + stream), HAProxy, the
// bare Node reference proxies (two HTTP, one TCP), netbird-proxy with CrowdSec off (HTTP only) and netbird-proxy with
// the tcp services. The CrowdSec scenario adds the enforce daemons.
import { join } from 'node:path';
import { freePort } from '../../test/harness/ports';
import { servicesYaml, startNetbird, type Netbird } from '../lib/netbird';
import { startBareProxy, startBareTcp, startHaproxy, startNginxProxy, startNginxUpstream, type Server } from '../lib/servers';
import { startTcpServer, type TcpServer } from '../lib/tcp';
import type { Tools } from '../lib/install';
import { memoryOf, type Pinning } from '../lib/tools';
import { log } from './log';

export interface Forward {
  listen: number;
  target: number;
}

export interface EnforceDaemon {
  key: string;
  nb: Netbird;
  label: string;
  description: string;
}

export interface Fleet {
  tcpServer: TcpServer;
  upstreamPort: number;
  upstream: Server;
  /** The bare Node TCP pipe's listeners, by TCP upstream: echo, source, http. */
  bareTcpForwards: Record<string, Forward>;
  bareTcp: Server;
  /** nginx stream listeners, by TCP upstream: echo, source, http. */
  nginxStream: Record<string, Forward>;
  /** netbird-proxy tcp services: tcp-echo, tcp-source, tcp-http. */
  netbirdTcp: Record<string, Forward>;
  nginxHttpPort: number;
  nginx: Server;
  haproxyPort: number;
  haproxy: Server;
  barePort: number;
  bare: Server;
  bareReqPort: number;
  bareReq: Server;
  nbOff: Netbird;
  nbTcp: Netbird;
  offMem: { rss_mb: number; peak_rss_mb: number } | undefined;
  enforce: EnforceDaemon[];
  /** Every server process that can be under test (SIGSTOPped while another one is measured). */
  serverPids(): number[];
  /** serverPids() without `pid`. */
  others(pid: number | undefined): number[];
}

export async function startFleet(tools: Tools, pin: Pinning, dir: string, defer: (c: () => Promise<void>) => void): Promise<Fleet> {
  const port = (): Promise<number> => freePort();
  const tcpServer = await startTcpServer(pin.load);
  defer(() => tcpServer.stop());
  const upstreamPort = await port();
  const upstream = await startNginxUpstream({ nginx: tools.nginx, dir: join(dir, 'nginx-upstream'), port: upstreamPort, cpu: pin.load });
  defer(() => upstream.stop());

  const tcpTargets = { echo: tcpServer.echo, source: tcpServer.source, http: upstreamPort };
  const nginxStream: Record<string, Forward> = {};
  const netbirdTcp: Record<string, Forward> = {};
  const bareTcpForwards: Record<string, Forward> = {};
  for (const [name, target] of Object.entries(tcpTargets)) {
    nginxStream[name] = { listen: await port(), target };
    netbirdTcp[`tcp-${name}`] = { listen: await port(), target };
    bareTcpForwards[name] = { listen: await port(), target };
  }
  const nginxHttpPort = await port();
  const nginx = await startNginxProxy({
    nginx: tools.nginx,
    streamModule: tools.streamModule,
    dir: join(dir, 'nginx-proxy'),
    cpu: pin.server,
    httpUpstream: upstreamPort,
    ports: { http: nginxHttpPort, stream: nginxStream },
  });
  defer(() => nginx.stop());
  const haproxyPort = await port();
  const haproxy = await startHaproxy({ haproxy: tools.haproxy, dir: join(dir, 'haproxy'), cpu: pin.server, port: haproxyPort, upstream: upstreamPort });
  defer(() => haproxy.stop());

  const barePort = await port();
  const bare = await startBareProxy({ mode: 'http-proxy', dir: join(dir, 'bare-http-proxy'), cpu: pin.server, port: barePort, upstream: upstreamPort });
  defer(() => bare.stop());
  const bareReqPort = await port();
  const bareReq = await startBareProxy({ mode: 'request', dir: join(dir, 'bare-request'), cpu: pin.server, port: bareReqPort, upstream: upstreamPort });
  defer(() => bareReq.stop());
  const bareTcp = await startBareTcp({ dir: join(dir, 'bare-tcp'), cpu: pin.server, forwards: Object.values(bareTcpForwards) });
  defer(() => bareTcp.stop());

  // HTTP-only like the enforce daemons, so enforce vs off differs in CrowdSec alone; the tcp
  // services get their own daemon (TCP traffic in the same process makes Node's shared socket and
  // stream code polymorphic and measurably slows the HTTP path).
  const nbOff = await startNetbird({
    name: 'netbird-off',
    dir: join(dir, 'netbird-off'),
    cpu: pin.server,
    services: servicesYaml({ httpUpstream: upstreamPort, crowdsec: 'off' }),
    httpPort: await port(),
    adminPort: await port(),
  });
  defer(() => nbOff.stop());
  const nbTcp = await startNetbird({
    name: 'netbird-tcp',
    dir: join(dir, 'netbird-tcp'),
    cpu: pin.server,
    services: servicesYaml({ httpUpstream: upstreamPort, crowdsec: 'off', tcp: netbirdTcp }),
    httpPort: await port(),
    adminPort: await port(),
  });
  defer(() => nbTcp.stop());
  log('upstream, nginx, HAProxy, reference proxies, netbird-proxy (CrowdSec off; tcp services) up');

  const enforce: EnforceDaemon[] = [];
  const serverPids = (): number[] => [nginx.pid, haproxy.pid, bare.pid, bareReq.pid, bareTcp.pid, nbOff.pid, nbTcp.pid, ...enforce.map((e) => e.nb.pid)];
  return {
    tcpServer,
    upstreamPort,
    upstream,
    nginxStream,
    netbirdTcp,
    bareTcpForwards,
    bareTcp,
    nginxHttpPort,
    nginx,
    haproxyPort,
    haproxy,
    barePort,
    bare,
    bareReqPort,
    bareReq,
    nbOff,
    nbTcp,
    offMem: memoryOf(nbOff.pid),
    enforce,
    serverPids,
    others: (pid) => serverPids().filter((p) => p !== pid),
  };
}
