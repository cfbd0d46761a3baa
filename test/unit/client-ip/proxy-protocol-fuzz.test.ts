// 10,000 seeded inputs through the PROXY v1/v2 parser: it never throws, never claims a header
// longer than the input, and answers the same for the same bytes.
import t from 'tap';
import { parseProxyHeader } from '../../../src/client-ip/proxy-protocol';
import { Gen, seededRandom } from '../../harness/fuzz';

const SEED = 0x9e3779b9;
const CASES = 10_000;

function v2(gen: Gen): Buffer {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const fam = gen.pick([0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32]);
  const addrLen = fam >> 4 === 1 ? 12 : fam >> 4 === 2 ? 36 : fam >> 4 === 3 ? 216 : 0;
  const tlv = gen.chance(0.3) ? gen.bytes(gen.int(20)) : Buffer.alloc(0);
  const body = Buffer.concat([gen.bytes(addrLen), tlv]);
  const head = Buffer.from([gen.pick([0x20, 0x21]), fam, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([sig, head, body, Buffer.from('GET / HTTP/1.1\r\n\r\n')]);
}

function v1(gen: Gen): Buffer {
  const lines = [
    `PROXY TCP4 ${gen.int(256)}.${gen.int(256)}.${gen.int(256)}.${gen.int(256)} 10.0.0.1 ${gen.int(70000)} 80\r\n`,
    `PROXY TCP6 2001:db8::${gen.int(65536).toString(16)} ::1 ${gen.int(65536)} 443\r\n`,
    'PROXY UNKNOWN\r\n',
    `PROXY UNKNOWN ${'x'.repeat(gen.int(120))}\r\n`,
  ];
  return Buffer.concat([Buffer.from(gen.pick(lines)), Buffer.from('payload')]);
}

t.test(`${CASES} generated PROXY headers (seed ${SEED})`, async (t) => {
  const gen = new Gen(seededRandom(SEED));
  const kinds = { ok: 0, invalid: 0, incomplete: 0 };
  let problems = 0;
  for (let i = 0; i < CASES; i++) {
    const base = gen.chance(0.5) ? v1(gen) : v2(gen);
    const input = gen.chance(0.15) ? base : gen.chance(0.1) ? gen.bytes(gen.int(300)) : gen.mutate(base);
    let r: ReturnType<typeof parseProxyHeader>;
    try {
      r = parseProxyHeader(input);
    } catch (err) {
      problems++;
      if (problems < 5) t.fail(`case ${i} threw: ${(err as Error).message} on ${input.toString('hex')}`);
      continue;
    }
    kinds[r.kind]++;
    if (r.kind === 'ok' && (r.headerLength < 8 || r.headerLength > input.length)) {
      problems++;
      if (problems < 5) t.fail(`case ${i}: headerLength ${r.headerLength} for ${input.length} bytes`);
    }
    if (JSON.stringify(parseProxyHeader(Buffer.from(input))) !== JSON.stringify(r)) {
      problems++;
      if (problems < 5) t.fail(`case ${i}: not deterministic`);
    }
  }
  t.equal(problems, 0, `no throw, no overlong header, deterministic (ok ${kinds.ok}, invalid ${kinds.invalid}, incomplete ${kinds.incomplete})`);
  t.ok(kinds.ok > 500 && kinds.invalid > 500, 'the generator reaches both valid and invalid headers');
});
