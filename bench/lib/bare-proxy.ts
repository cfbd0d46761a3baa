// Reference points: the bare minimum a Node reverse proxy does, with nothing else (no routing,
// no access checks, no access log, no metrics), to show what is Node and what is ours.
//
//   node .build/bench/lib/bare-proxy.js MODE LISTEN_PORT UPSTREAM_PORT     (prints "ready")
//   MODE http-proxy: the library and agent settings netbird-proxy uses (http-proxy, keep-alive
//                    agent, lifo);
//   MODE request:    the same agent, forwarding with plain http.request() and pipe().
//   node .build/bench/lib/bare-proxy.js tcp LISTEN:UPSTREAM [LISTEN:UPSTREAM ...]
//   MODE tcp:        a TCP pipe per pair (net.createServer, net.connect, pipe both ways): the
//                    ceiling of Node's own sockets for the tcp services' new-connection rate.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import httpProxy from 'http-proxy';

function badGateway(res: ServerResponse): void {
  if (!res.headersSent) {
    res.writeHead(502, { 'content-length': 0 });
    res.end();
  } else {
    res.destroy();
  }
}

function tcpPipes(pairs: string[]): void {
  let pending = pairs.length;
  for (const pair of pairs) {
    const [listen, upstream] = pair.split(':').map(Number);
    if (!listen || !upstream) throw new Error(`bad LISTEN:UPSTREAM pair: ${pair}`);
    const server = net.createServer({ allowHalfOpen: true }, (client) => {
      const up = net.connect({ host: '127.0.0.1', port: upstream, allowHalfOpen: true, noDelay: true });
      const both = (): void => {
        client.destroy();
        up.destroy();
      };
      client.on('error', both);
      up.on('error', both);
      client.pipe(up);
      up.pipe(client);
    });
    server.listen(listen, '127.0.0.1', () => {
      if (--pending === 0) process.stdout.write('ready\n');
    });
  }
}

function main(): void {
  if (process.argv[2] === 'tcp') {
    tcpPipes(process.argv.slice(3));
    process.on('SIGTERM', () => process.exit(0));
    return;
  }
  const [mode, listenArg, upstreamArg] = process.argv.slice(2);
  const listen = Number(listenArg);
  const upstreamPort = Number(upstreamArg);
  if ((mode !== 'http-proxy' && mode !== 'request') || !listen || !upstreamPort) {
    throw new Error('usage: bare-proxy.js http-proxy|request LISTEN_PORT UPSTREAM_PORT');
  }
  const agent = new http.Agent({ keepAlive: true, timeout: 4000, maxFreeSockets: 256, scheduling: 'lifo' });
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  if (mode === 'http-proxy') {
    const target = new URL(`http://127.0.0.1:${upstreamPort}`);
    const proxy = httpProxy.createProxyServer({ xfwd: false });
    proxy.on('error', (_err, _req, res) => {
      if ('writeHead' in res) badGateway(res);
      else res.destroy();
    });
    handler = (req, res) => proxy.web(req, res, { target, agent });
  } else {
    handler = (req, res) => {
      const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers, agent }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => badGateway(res));
      req.pipe(up);
    };
  }
  const server = http.createServer(handler);
  server.listen(listen, '127.0.0.1', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => process.exit(0));
}

main();
