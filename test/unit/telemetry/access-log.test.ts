import t from 'tap';
import { AccessLog, formatAccessLine, metadataOrEmpty, type AccessEntry } from '../../../src/telemetry/access-log';

const http: AccessEntry = {
  service: 'web',
  protocol: 'http',
  scheme: 'https',
  sni: 'app.example.com',
  client_ip: '127.0.0.2',
  country: 'DE',
  method: 'GET',
  host: 'app.example.com',
  path: '/a"b\\c\n\u0001?q=<script>é',
  status: 403,
  bytes_in: 78,
  bytes_out: 142,
  duration_ms: 0.213,
  deny_reason: 'crowdsec_ban',
  metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'enforce' },
};

t.test("one JSON line in pino's format, fields intact whatever the client sent", async (t) => {
  const line = formatAccessLine(http, 1795609645772);
  t.ok(line.endsWith('}\n'));
  t.equal(line.indexOf('\n'), line.length - 1, 'a hostile path cannot break the line');
  t.same(JSON.parse(line), { level: 30, time: 1795609645772, ...http, msg: 'access' });
});

t.test('TCP entries carry no HTTP fields; no metadata is {}', async (t) => {
  const entry: AccessEntry = {
    service: 'ssh',
    protocol: 'tcp',
    client_ip: '::1',
    bytes_in: 4,
    bytes_out: 9,
    duration_ms: 1.5,
    deny_reason: '',
    metadata: metadataOrEmpty(undefined),
  };
  const parsed = JSON.parse(formatAccessLine(entry, 1)) as Record<string, unknown>;
  t.same(parsed, {
    level: 30,
    time: 1,
    service: 'ssh',
    protocol: 'tcp',
    client_ip: '::1',
    bytes_in: 4,
    bytes_out: 9,
    duration_ms: 1.5,
    deny_reason: '',
    metadata: {},
    msg: 'access',
  });
});

t.test('AccessLog writes whole lines to its sink', async (t) => {
  const lines: string[] = [];
  new AccessLog({ write: (l) => lines.push(l) > 0 }).write(http);
  t.equal(lines.length, 1);
  t.match(JSON.parse(lines[0]) as object, { msg: 'access', service: 'web' });
});

t.test('scheme and sni come right after protocol, and are left out when absent', async (t) => {
  const line = formatAccessLine(http, 1);
  t.match(line, /"protocol":"http","scheme":"https","sni":"app\.example\.com","client_ip"/);
  const { scheme: _s, sni: _n, ...plain } = http;
  t.notMatch(formatAccessLine(plain, 1), /scheme|sni/);
});

t.test('quoted fields are written as JSON.stringify writes them, plain or needing escapes', async (t) => {
  for (const path of ['/plain/é?x=1', '/a"b', '/a\\b', '/tab\there', '/nul\u0000', '/lone\ud800', '/del\u007f', '/emoji\u{1f600}']) {
    const line = formatAccessLine({ ...http, path, host: path.slice(1) }, 1);
    t.ok(line.includes(`"path":${JSON.stringify(path)}`), `path ${JSON.stringify(path)}`);
    t.equal((JSON.parse(line) as { path: string }).path, JSON.parse(JSON.stringify(path)) as string);
  }
});
