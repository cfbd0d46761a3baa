// The admin request boundary: an exception in a handler, thrown or rejected, ends that request
// with 500, is logged and counted, and the listener goes on serving.
import t from 'tap';
import pino from 'pino';
import { Writable } from 'node:stream';
import { AdminServer, type AdminState } from '../../../src/admin/server';
import { Metrics } from '../../../src/telemetry/metrics';
import { httpGet } from '../../harness/clients';
import { freePort } from '../../harness/ports';

t.test('a throwing or rejecting handler gives 500, a log line and a count', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({}, sink);
  const metrics = new Metrics(() => undefined);
  const state: AdminState = {
    supportsCrowdSec: false,
    notReadyReasons: () => Promise.reject(new Error('readiness exploded')),
    status: () => {
      throw new Error('status exploded');
    },
  };
  const server = new AdminServer(state, metrics, log);
  const port = await freePort();
  await server.listen({ host: '127.0.0.1', port });
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${port}`;

  const sync = await httpGet(`${url}/status`);
  t.equal(sync.status, 500, 'a synchronous throw');
  const async = await httpGet(`${url}/readyz`);
  t.equal(async.status, 500, 'a rejected promise');
  t.equal((await httpGet(`${url}/healthz`)).status, 200, 'the listener goes on');
  t.match(
    lines.filter((l) => l.msg === 'admin request failed'),
    [
      { where: 'admin', method: 'GET', path: '/status', err: 'status exploded' },
      { where: 'admin', method: 'GET', path: '/readyz', err: 'readiness exploded' },
    ],
  );
  t.match(await metrics.registry.metrics(), /netbird_proxy_request_errors_total\{where="admin"\} 2/);
});
