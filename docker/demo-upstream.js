// The `demo` compose profile's upstream: answers every request with a short text naming the
// host and path it got, so a proxied request is easy to recognise.
'use strict';
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
http
  .createServer((req, res) => {
    const body = `hello from the demo upstream: ${req.method} ${req.headers.host || '-'}${req.url}\n`;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  })
  .listen(port, '0.0.0.0', () => process.stdout.write(`demo upstream listening on :${port}\n`));
process.on('SIGTERM', () => process.exit(0));
