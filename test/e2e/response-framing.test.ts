// How an upstream's answer is framed for the client (forward/exchange.ts): an HTTP/1.0 client gets a
// chunked upstream body without Transfer-Encoding, close-delimited, with Connection: close; an
// HTTP/1.1 client asking to close gets Connection: close and the connection ends; a keep-alive
// client keeps its connection; HEAD and 304 carry no body; a body the client sends arrives intact.
import t from 'tap';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDaemon } from '../harness/daemon';
import { rawExchange } from '../harness/raw-http';

t.test('response framing per client', async (t) => {
  const upstream = http.createServer((req: IncomingMessage, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      if (req.url === '/not-modified') {
        res.writeHead(304, { etag: '"x"' });
        return res.end();
      }
      res.setHeader('content-type', 'text/plain');
      res.setHeader('x-upstream-saw', `${req.method} ${req.url} ${req.headers['content-length'] ?? '-'} ${req.headers.connection ?? '-'}`);
      // No Content-Length: Node sends the body chunked to an HTTP/1.1 peer (the proxy).
      res.write('first part, ');
      setImmediate(() => res.end(`second part; body: ${body}`));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const daemon = await startDaemon({
    config: `services:
  - name: web
    protocol: http
    domains: [web.example.com]
    target: http://127.0.0.1:${(upstream.address() as AddressInfo).port}
`,
  });
  t.teardown(async () => {
    await daemon.stop();
    await new Promise((resolve) => upstream.close(resolve));
  });
  const head = (text: string): string => text.slice(0, text.indexOf('\r\n\r\n')).toLowerCase();
  const body = (text: string): string => text.slice(text.indexOf('\r\n\r\n') + 4);

  const old = await rawExchange(daemon.httpPort, 'GET /old HTTP/1.0\r\nHost: web.example.com\r\n\r\n');
  t.match(old.text, /^HTTP\/1\.1 200 /);
  t.notMatch(head(old.text), /transfer-encoding/, 'HTTP/1.0: no chunked framing');
  t.match(head(old.text), /\r\nconnection: close/);
  t.equal(body(old.text), 'first part, second part; body: ', 'the body, close-delimited');
  t.ok(old.closed, 'the proxy closes the connection');

  const closing = await rawExchange(daemon.httpPort, 'GET /bye HTTP/1.1\r\nHost: web.example.com\r\nConnection: close\r\n\r\n');
  t.match(head(closing.text), /\r\nconnection: close/);
  t.match(head(closing.text), /\r\nx-upstream-saw: get \/bye - keep-alive/, "the upstream hop is kept alive: the client's Connection is not its");
  t.ok(closing.closed, 'closed after the answer');

  const kept = await rawExchange(daemon.httpPort, 'GET /a HTTP/1.1\r\nHost: web.example.com\r\n\r\nGET /b HTTP/1.1\r\nHost: web.example.com\r\n\r\n', {
    until: (text) => text.includes('x-upstream-saw: GET /b') && text.endsWith('0\r\n\r\n'),
  });
  t.equal(kept.text.match(/HTTP\/1\.1 200 /g)?.length, 2, 'keep-alive: both answers on one connection');
  t.match(kept.text, /transfer-encoding: chunked/i, 'chunked to an HTTP/1.1 client');

  const posted = await rawExchange(daemon.httpPort, 'POST /p HTTP/1.1\r\nHost: web.example.com\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
  t.match(posted.text, /x-upstream-saw: POST \/p 5 keep-alive/i);
  t.match(posted.text, /second part; body: hello/, 'the request body reached the upstream');

  const headOnly = await rawExchange(daemon.httpPort, 'HEAD /h HTTP/1.1\r\nHost: web.example.com\r\nConnection: close\r\n\r\n');
  t.match(headOnly.text, /^HTTP\/1\.1 200 /);
  t.equal(body(headOnly.text), '', 'HEAD: no body');

  const notModified = await rawExchange(daemon.httpPort, 'GET /not-modified HTTP/1.1\r\nHost: web.example.com\r\nConnection: close\r\n\r\n');
  t.match(notModified.text, /^HTTP\/1\.1 304 /);
  t.match(head(notModified.text), /\r\netag: "x"/);
  t.equal(body(notModified.text), '', '304: no body');
});
