// nginx and HAProxy instances with private configs in a temp dir (never the system services):
// the HTTP upstream (`return 200`), nginx as HTTP reverse proxy and `stream` TCP proxy, HAProxy.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { until } from '../../test/harness/clients';
import { sampler } from './probe';
import { spawnPinned, stopChild } from './tools';

export interface Server {
  readonly name: string;
  readonly pid: number;
  readonly dir: string;
  stop(): Promise<void>;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

async function waitPorts(name: string, child: ChildProcess, ports: number[], logFile: string): Promise<void> {
  for (const port of ports) {
    const open = sampler(() => tcpOpen(port), 50);
    await until(
      `${name} listening on ${port}`,
      () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${name} exited (${child.signalCode ?? child.exitCode}) before listening`);
        }
        return open() === true;
      },
      10_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${tail(logFile)}`);
    });
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n');
  } catch {
    return '(no log)';
  }
}

async function launch(name: string, dir: string, cpu: string | undefined, cmd: string, args: string[], ports: number[]): Promise<Server> {
  const logFile = join(dir, 'console.log');
  const fd = openSync(logFile, 'a');
  const child = spawnPinned(cpu, cmd, args, { stdio: ['ignore', fd, fd], cwd: dir });
  closeSync(fd);
  try {
    await waitPorts(name, child, ports, logFile);
  } catch (err) {
    await stopChild(child, 1000, 'SIGKILL');
    throw err;
  }
  // A server that dies mid-run would only show up later as "connection refused" in some wrk run:
  // say so at once, with the end of its console log (the temp dir is gone without --keep).
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`\n!! ${name} (pid ${child.pid}) exited unexpectedly (${signal ?? code}): ${tail(logFile)}\n`);
  });
  return {
    name,
    pid: child.pid as number,
    dir,
    // nginx: SIGTERM is a fast shutdown; SIGQUIT would wait for keep-alive clients.
    stop: () => {
      stopping = true;
      return stopChild(child, 3000, 'SIGTERM');
    },
  };
}

const NGINX_COMMON = (dir: string): string => `
worker_processes 1;
worker_rlimit_nofile 65536;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 16384; multi_accept on; }
`;

/** nginx answering every request with 200 "ok\n", one worker, no access log. */
export async function startNginxUpstream(o: { nginx: string; dir: string; port: number; cpu: string | undefined }): Promise<Server> {
  mkdirSync(o.dir, { recursive: true });
  const conf = join(o.dir, 'nginx.conf');
  writeFileSync(
    conf,
    `${NGINX_COMMON(o.dir)}
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:${o.port} reuseport backlog=4096;
    location / { return 200 "ok\\n"; }
  }
}
`,
  );
  return launch('nginx-upstream', o.dir, o.cpu, o.nginx, ['-c', conf, '-p', o.dir, '-g', 'daemon off;'], [o.port]);
}

export interface NginxProxyPorts {
  /** HTTP reverse proxy → httpUpstream. */
  http: number;
  /** stream server → each target port, by name. */
  stream: Record<string, { listen: number; target: number }>;
}

/**
 * nginx as the thing under test: an HTTP reverse proxy with upstream keep-alive and an access log
 * (netbird-proxy writes one too), and `stream` proxies with a per-session access log.
 */
export async function startNginxProxy(o: {
  nginx: string;
  streamModule: string;
  dir: string;
  cpu: string | undefined;
  httpUpstream: number;
  ports: NginxProxyPorts;
}): Promise<Server> {
  mkdirSync(o.dir, { recursive: true });
  const conf = join(o.dir, 'nginx.conf');
  const streams = Object.entries(o.ports.stream)
    .map(([, p]) => `  server { listen 127.0.0.1:${p.listen} backlog=4096; proxy_pass 127.0.0.1:${p.target}; }`)
    .join('\n');
  writeFileSync(
    conf,
    `load_module ${o.streamModule};
${NGINX_COMMON(o.dir)}
http {
  access_log ${o.dir}/access.log;
  default_type text/plain;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
  upstream backend {
    server 127.0.0.1:${o.httpUpstream};
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${o.ports.http} backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
stream {
  log_format session '$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received $session_time';
  access_log ${o.dir}/stream-access.log session;
${streams}
}
`,
  );
  const ports = [o.ports.http, ...Object.values(o.ports.stream).map((p) => p.listen)];
  return launch('nginx-proxy', o.dir, o.cpu, o.nginx, ['-c', conf, '-p', o.dir, '-g', 'daemon off;'], ports);
}

/**
 * nginx terminating TLS (the HTTPS rows): one worker, the given certificate and key, TLS 1.2/1.3,
 * session tickets and a session cache (nginx's defaults otherwise), proxy_pass with upstream
 * keep-alive and an access log, like the HTTP reverse proxy.
 */
export async function startNginxTlsProxy(o: {
  nginx: string;
  dir: string;
  cpu: string | undefined;
  port: number;
  upstream: number;
  cert: string;
  key: string;
  /** ALPN h2 as well (nginx 1.22: `listen ... ssl http2`). */
  http2?: boolean;
}): Promise<Server> {
  mkdirSync(o.dir, { recursive: true });
  const conf = join(o.dir, 'nginx.conf');
  writeFileSync(
    conf,
    `${NGINX_COMMON(o.dir)}
http {
  access_log ${o.dir}/access.log;
  default_type text/plain;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
  upstream backend {
    server 127.0.0.1:${o.upstream};
    keepalive 128;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${o.port} ssl${o.http2 === true ? ' http2' : ''} backlog=4096;
    ssl_certificate ${o.cert};
    ssl_certificate_key ${o.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 5m;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
  );
  return launch(o.http2 === true ? 'nginx-h2' : 'nginx-tls', o.dir, o.cpu, o.nginx, ['-c', conf, '-p', o.dir, '-g', 'daemon off;'], [o.port]);
}

/** HAProxy in HTTP mode, one thread, server-side keep-alive (http-reuse always), log to stdout (a file). */
export async function startHaproxy(o: { haproxy: string; dir: string; cpu: string | undefined; port: number; upstream: number }): Promise<Server> {
  mkdirSync(o.dir, { recursive: true });
  const conf = join(o.dir, 'haproxy.cfg');
  writeFileSync(
    conf,
    `global
  nbthread 1
  maxconn 4096
  log stdout format raw local0 info

defaults
  mode http
  log global
  option httplog
  option forwardfor
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 75s

frontend fe
  bind 127.0.0.1:${o.port}
  default_backend be

backend be
  server s1 127.0.0.1:${o.upstream}
`,
  );
  return launch('haproxy', o.dir, o.cpu, o.haproxy, ['-f', conf, '-db'], [o.port]);
}

/** bench/bare-proxy.ts: a Node reverse proxy with nothing but forwarding (a reference). */
/** The bare Node TCP pipe (bare-proxy.js tcp), one listener per forward. */
export async function startBareTcp(o: { dir: string; cpu: string | undefined; forwards: { listen: number; target: number }[] }): Promise<Server> {
  mkdirSync(o.dir, { recursive: true });
  return launch(
    'bare-proxy-tcp',
    o.dir,
    o.cpu,
    process.execPath,
    [join(__dirname, 'bare-proxy.js'), 'tcp', ...o.forwards.map((f) => `${f.listen}:${f.target}`)],
    o.forwards.map((f) => f.listen),
  );
}

export async function startBareProxy(o: {
  mode: 'http-proxy' | 'request';
  dir: string;
  cpu: string | undefined;
  port: number;
  upstream: number;
}): Promise<Server> {
  mkdirSync(o.dir, { recursive: true });
  return launch(
    `bare-proxy-${o.mode}`,
    o.dir,
    o.cpu,
    process.execPath,
    [join(__dirname, 'bare-proxy.js'), o.mode, String(o.port), String(o.upstream)],
    [o.port],
  );
}
