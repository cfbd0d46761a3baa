import t from 'tap';
import { LapiClient } from '../../../../src/crowdsec/stream/lapi-client';
import { collectStream } from '../../../../src/crowdsec/stream/collect-stream';
import { StreamBodyParser, StreamParseError, type DecisionSink } from '../../../../src/crowdsec/stream/stream-parser';
import { DecisionStore } from '../../../../src/crowdsec/core/store';
import type { LapiDecision, StreamResponse } from '../../../../src/crowdsec/core/types';
import type { CrowdSecSettings } from '../../../../src/crowdsec/stream/settings';
import { bigStartupBody, startFakeLapi } from '../../../harness/fake-lapi';

const NOW = 1_700_000_000_000;

/** Feeds `pieces` to a collecting parser; the lists as JSON.parse would give them. */
function parsePieces(pieces: Buffer[]): StreamResponse {
  const c = collectStream();
  const p = new StreamBodyParser(c.sink);
  for (const piece of pieces) p.push(piece);
  return c.result(p.end());
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const c of cuts) {
    out.push(buf.subarray(from, c));
    from = c;
  }
  out.push(buf.subarray(from));
  return out;
}

function expected(text: string): StreamResponse {
  const v = JSON.parse(text) as Record<string, unknown>;
  const list = (x: unknown): LapiDecision[] | null => (Array.isArray(x) ? (x as LapiDecision[]) : null);
  return { new: list(v.new), deleted: list(v.deleted) };
}

const TRICKY = Buffer.from(
  ' \n{ "other" : {"nested": ["]", "}", {"x": "\\"{["}], "n": -1.5e3, "t": true},\r\n' +
    '  "new" : [ {"value": "192.0.2.1", "scope": "Ip", "type": "ban", "duration": "4h", "scenario": "a \\"quoted\\" {brace} [bracket] \\\\ back\\\\"},' +
    '\t{"value":"2001:db8::/32","scope":"Range","type":"captcha","duration":"1h","scenario":"héllo wörld ✓ \\u00e9 🚫","origin":"cscli"} ,null, 7, "s]", [1,{"a":"}"}] ],\n' +
    ' "deleted":[{"value":"198.51.100.7","scope":"Ip","type":"ban","duration":"-1s","scenario":"\\\\"}], "tail": null }\n ',
  'utf8',
);

t.test('every single split position, and byte by byte, give what JSON.parse gives', async (t) => {
  const want = expected(TRICKY.toString('utf8'));
  t.equal(want.new?.length, 6);
  for (let i = 0; i <= TRICKY.length; i++) {
    const got = parsePieces(splitAt(TRICKY, [i]));
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      t.fail(`split at ${i}`);
      return;
    }
  }
  t.pass('all single splits agree');
  const bytes: Buffer[] = [];
  for (let i = 0; i < TRICKY.length; i++) bytes.push(TRICKY.subarray(i, i + 1));
  t.same(parsePieces(bytes), want, 'one byte per chunk (multi-byte UTF-8 split too)');
  // every pair of cut points on a smaller body
  const small = Buffer.from('{"deleted":null,"new":[{"v":"a\\"}b"},{"v":"\\\\"},{"v":"é"}]}');
  const wantSmall = expected(small.toString('utf8'));
  let bad = 0;
  for (let i = 0; i <= small.length; i++) {
    for (let j = i; j <= small.length; j++) {
      if (JSON.stringify(parsePieces(splitAt(small, [i, j]))) !== JSON.stringify(wantSmall)) bad++;
    }
  }
  t.equal(bad, 0, 'every pair of split positions agrees');
});

t.test('null, absent and empty lists; key order; ignored keys', async (t) => {
  const cases = [
    '{"deleted":null,"new":null}',
    '{"new":null,"deleted":null}',
    '{}',
    ' { } ',
    '{"new":[]}',
    '{"deleted":[],"new":[ ]}',
    '{"new":[{"value":"1.2.3.4"}],"deleted":[{"value":"5.6.7.8"}]}',
    '{"deleted":[{"value":"5.6.7.8"}],"new":[{"value":"1.2.3.4"}]}',
    '{"x":[1,2,[3]],"new":[{"value":"1.2.3.4"}],"y":"new","z":{"new":5}}',
    '{"new":[null, 1]}',
  ];
  for (const c of cases) t.same(parsePieces([Buffer.from(c)]), expected(c), c);
});

t.test('deleted batches are handed on before new ones, whatever the key order', async (t) => {
  for (const body of [
    '{"new":[{"value":"1.1.1.1"},{"value":"2.2.2.2"}],"deleted":[{"value":"3.3.3.3"}]}',
    '{"deleted":[{"value":"3.3.3.3"}],"new":[{"value":"1.1.1.1"},{"value":"2.2.2.2"}]}',
    '{"new":[{"value":"1.1.1.1"},{"value":"2.2.2.2"}]}',
  ]) {
    const log: string[] = [];
    const sink: DecisionSink = {
      onDeleted: (b) => log.push(...b.map((d) => `-${d.value}`)),
      onNew: (b) => log.push(...b.map((d) => `+${d.value}`)),
    };
    const p = new StreamBodyParser(sink);
    const buf = Buffer.from(body);
    for (let i = 0; i < buf.length; i += 7) p.push(buf.subarray(i, i + 7));
    const s = p.end();
    for (const b of s.deferredNew) sink.onNew(b);
    const dels = log.filter((x) => x.startsWith('-'));
    t.same(log, [...dels, '+1.1.1.1', '+2.2.2.2'], body);
    t.equal(s.newCount, 2);
    t.equal(s.deletedCount, dels.length);
    t.equal(s.deferredNew.length > 0, body.indexOf('"new"') < body.indexOf('"deleted"') || !body.includes('"deleted"'), 'deferred only when new comes first');
  }
});

t.test('malformed, wrong-shape and truncated bodies', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['', /^CrowdSec LAPI sent an empty body$/],
    ['   ', /^CrowdSec LAPI sent malformed JSON \(3 bytes: /],
    ['{"new":[', /^CrowdSec LAPI sent malformed JSON \(8 bytes: /],
    ['{"new":[{"value":"1.2.3.4"}]', /^CrowdSec LAPI sent malformed JSON \(\d+ bytes: /],
    ['{"new":[{"value":"1.2.3.4"', /malformed JSON/],
    ['{"new":[{"value":"1.2.3.4\\"}]}', /malformed JSON/],
    ['{"new":nul}', /malformed JSON/],
    ['{"new":null', /malformed JSON/],
    ['{"new":[{"a":1},]}', /malformed JSON .*unexpected '\]'/],
    ['{"new":[,{"a":1}]}', /malformed JSON .*unexpected ','/],
    ['{"new":[{"a":1} {"b":2}]}', /malformed JSON .*unexpected '\{'/],
    ['{"new":[{"a":}]}', /malformed JSON/],
    ['{"new":[{"a":1]]}', /malformed JSON/],
    ['{"new":[tru]}', /malformed JSON/],
    ['{"new":null}x', /malformed JSON .*unexpected 'x'/],
    ['{"new":null}{}', /malformed JSON/],
    ['{new:[]}', /malformed JSON .*unexpected 'n'/],
    ['{"new" []}', /malformed JSON/],
    ['{"new":[],}', /malformed JSON/],
    ['{"x":[1,}', /malformed JSON/],
    ['[]', /^CrowdSec LAPI response is not a \{"new", "deleted"\} object but a list$/],
    ['null', /object but null$/],
    ['"x"', /object but a string$/],
    ['[1,', /malformed JSON/],
    ['{"new":"x"}', /^CrowdSec LAPI response field "new" is a string, expected a list or null$/],
    ['{"deleted":5}', /^CrowdSec LAPI response field "deleted" is a number, expected a list or null$/],
    ['{"new":{"a":[]}}', /field "new" is a object, expected a list or null$/],
    ['{"new":[],"new":[]}', /field "new" twice/],
  ];
  for (const [body, re] of bad) {
    const buf = Buffer.from(body);
    for (const step of [buf.length || 1, 1, 3]) {
      const p = new StreamBodyParser(collectStream().sink);
      let err: unknown;
      try {
        for (let i = 0; i < buf.length; i += step) p.push(buf.subarray(i, i + step));
        p.end();
      } catch (e) {
        err = e;
      }
      t.ok(err instanceof StreamParseError, `${JSON.stringify(body)} / ${step}: throws`);
      t.match((err as Error).message, re, `${JSON.stringify(body)} / ${step}`);
    }
  }
});

function storeDigest(s: DecisionStore, probes: string[]): unknown {
  return {
    size: s.size,
    values: s.valueCount,
    stats: s.stats(NOW),
    breakdown: s.breakdown(NOW),
    lookups: probes.map((ip) => {
      const hit = s.lookup(ip, NOW);
      return hit === undefined ? null : { type: hit.type, origin: hit.origin, scenario: hit.scenario, value: hit.value, expiresAt: hit.expiresAt };
    }),
  };
}

t.test('a 200k-decision body in random chunk sizes builds the same store as JSON.parse + apply', async (t) => {
  const full = [...bigStartupBody(200_000, { rangeEvery: 7 })].join('');
  // new first, deleted after (the order the parser must re-establish), deleting some of the seeded entries
  // and some of the new ones (deleted first means those stay).
  const del: LapiDecision[] = [];
  for (let i = 0; i < 3000; i++) del.push({ scope: 'Ip', value: `10.0.${i >> 8}.${i & 255}`, type: 'ban', duration: '-1s' });
  for (let i = 0; i < 50; i++) del.push({ scope: 'Ip', value: `1.0.${i >> 8}.${(i & 255) | 1}`, type: 'ban', duration: '-1s' });
  const body = Buffer.from(`${full.slice(0, -1).replace('"deleted":null,', '')},"deleted":${JSON.stringify(del)}}`, 'utf8');

  const seed = (s: DecisionStore): void => {
    const seeded: LapiDecision[] = [];
    for (let i = 0; i < 6000; i++)
      seeded.push({ scope: 'Ip', value: `10.0.${i >> 8}.${i & 255}`, type: 'ban', duration: '4h', origin: 'cscli', scenario: 'seed' });
    s.apply({ new: seeded, deleted: null }, NOW);
  };
  const ref = new DecisionStore();
  seed(ref);
  const refResult = ref.apply(JSON.parse(body.toString('utf8')) as StreamResponse, NOW);

  const store = new DecisionStore();
  seed(store);
  const totals = { added: 0, deleted: 0, skipped: 0 };
  const sink: DecisionSink = {
    onDeleted: (b) => {
      const r = store.applyDeleted(b, NOW);
      totals.deleted += r.deleted;
      totals.skipped += r.skipped;
    },
    onNew: (b) => {
      const r = store.applyNew(b, NOW);
      totals.added += r.added;
      totals.skipped += r.skipped;
    },
  };
  const p = new StreamBodyParser(sink);
  let seedRnd = 12345;
  const rnd = (): number => {
    seedRnd = (Math.imul(seedRnd, 1103515245) + 12345) >>> 0;
    return seedRnd / 4294967296;
  };
  for (let i = 0; i < body.length;) {
    const n = 1 + Math.floor(rnd() * (rnd() < 0.1 ? 200_000 : 3000));
    p.push(body.subarray(i, i + n));
    i += n;
  }
  const summary = p.end();
  for (const b of summary.deferredNew) sink.onNew(b);
  t.equal(summary.newCount, 200_000);
  t.equal(summary.deletedCount, del.length);
  t.same(totals, { added: refResult.added, deleted: refResult.deleted, skipped: refResult.skipped });
  const probes: string[] = [];
  for (let i = 0; i < 2000; i++) probes.push(`1.${(i * 37) & 3}.${(i * 13) & 255}.${i & 255}`, `10.0.${(i >> 8) & 31}.${i & 255}`);
  t.same(storeDigest(store, probes), storeDigest(ref, probes));
  t.ok(store.lookup('10.0.20.1', NOW), 'seeded entries not deleted stay');
  t.notOk(store.lookup('10.0.1.1', NOW), 'deleted seeded entries are gone');
});

function settings(url: string, apiKey: string): CrowdSecSettings {
  return { apiUrl: url, apiKey, pollIntervalMs: 100, caCertPath: undefined, certPath: undefined, keyPath: undefined };
}

t.test('LapiClient: with a sink, held-back new batches come after the deletions; without, lists are collected', async (t) => {
  const fake = await startFakeLapi();
  t.teardown(() => fake.close());
  const client = new LapiClient({ settings: settings(fake.url, fake.apiKey) });
  t.teardown(() => client.close());
  const news: string[] = [];
  for (let i = 0; i < 50_000; i++) news.push(`{"value":"1.0.${i >> 8}.${i & 255}","scope":"Ip","type":"ban","duration":"1h"}`);
  const body = `{"new":[${news.join(',')}],"deleted":[{"value":"9.9.9.9","scope":"Ip","type":"ban"}]}`;
  fake.enqueue({ status: 200, body, headers: { 'Content-Type': 'application/json' } });
  const log: Array<['+' | '-', number]> = [];
  const r = await client.pull(true, undefined, {
    onDeleted: (b) => log.push(['-', b.length]),
    onNew: (b) => log.push(['+', b.length]),
  });
  t.equal(r.response, undefined);
  t.same(r.received, { new: 50_000, deleted: 1 });
  t.same(log[0], ['-', 1], 'deletions first');
  t.equal(
    log.slice(1).reduce((a, [, n]) => a + n, 0),
    50_000,
  );
  fake.enqueue({ status: 200, body, headers: { 'Content-Type': 'application/json' } });
  const r2 = await client.pull(false);
  t.equal(r2.response?.new?.length, 50_000);
  t.same(r2.response?.deleted, [{ value: '9.9.9.9', scope: 'Ip', type: 'ban' }]);
});
