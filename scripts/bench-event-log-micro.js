// In-process cost of the event log per access entry (needs npm run build):
//   append only (page closed), and append + batched SSE serialisation for one live subscriber.
// The subscriber is a real http.ServerResponse on loopback, read by curl in another process.
'use strict';
const http = require('node:http');
const { EventLog } = require('../dist/admin/event-log');
const { EventStreamHub, BATCH_MS } = require('../dist/admin/event-stream');
const { parseEventFilter } = require('../dist/admin/event-filter');
const { formatAccessLine } = require('../dist/access-log');

const N = Number(process.argv[2] ?? 200000);
const entry = (i) => ({
  service: 'shop',
  protocol: 'http',
  client_ip: `10.0.${(i >> 8) & 255}.${i & 255}`,
  country: 'DE',
  method: 'GET',
  host: 'shop.example.com',
  path: `/products/${i}?ref=mail`,
  status: 200,
  bytes_in: 120,
  bytes_out: 512,
  duration_ms: 1.234,
  deny_reason: '',
  metadata: {},
});
const entries = Array.from({ length: 4096 }, (_, i) => entry(i));
const lines = entries.map((e) => formatAccessLine(e, Date.now()));

function cpuNs() {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

// The access log builds a fresh line per request; the ring copies it. Measured as the CPU of
// "build the line and append" minus "build the line" (same loop, ring or not).
function appendOnly() {
  const run = (log) => {
    const c0 = cpuNs();
    for (let i = 0; i < N; i++) {
      const e = entries[i & 4095];
      const line = formatAccessLine(e, i);
      if (log !== undefined) log.append(e, i, line);
    }
    return (cpuNs() - c0) / N;
  };
  const diffs = [];
  for (let r = 0; r < 5; r++) diffs.push(run(new EventLog(10000)) - run(undefined));
  diffs.sort((a, b) => a - b);
  return diffs[2];
}

async function streaming() {
  const log = new EventLog(10000);
  const hub = new EventStreamHub(log);
  const server = http.createServer((req, res) => hub.subscribe(res, parseEventFilter(new URLSearchParams(''), 10000, Date.now()), undefined));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  // The reader is another process (curl), so its CPU is not counted here.
  const curl = require('node:child_process').spawn('curl', ['-sN', `http://127.0.0.1:${server.address().port}/`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let received = 0;
  curl.stdout.on('data', (c) => (received += c.length));
  while (hub.count === 0) await new Promise((r) => setTimeout(r, 10));
  // Append in slices the size of a busy batch window, letting each batch flush, and count the
  // CPU of appends plus flushes (the event loop does both).
  const perWindow = 2500; // 10k requests/s × 250 ms
  const c0 = cpuNs();
  let done = 0;
  let i = 0;
  while (done < N) {
    for (let k = 0; k < perWindow; k++, i++) log.append(entries[i & 4095], Date.now(), lines[i & 4095]);
    done += perWindow;
    await new Promise((r) => setTimeout(r, BATCH_MS + 5));
  }
  const cpu = cpuNs() - c0;
  hub.close();
  server.close();
  curl.kill();
  return { nsPerEntry: cpu / done, bytes: received };
}

(async () => {
  const a = appendOnly();
  const s = await streaming();
  console.log(`append only (page closed):         ${a.toFixed(0)} ns CPU per request (median of 5)`);
  console.log(
    `append + stream to one subscriber: ${s.nsPerEntry.toFixed(0)} ns CPU per request (incl. the batch timers; ${(s.bytes / 1e6).toFixed(1)} MB streamed)`,
  );
})();
