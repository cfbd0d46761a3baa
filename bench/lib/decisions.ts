// A deterministic, realistic mix of CrowdSec decisions for the enforce benchmarks:
// 70 % IPv4 exact, 20 % IPv6 exact, 10 % ranges (70 % IPv4 /12–/30, 30 % IPv6 /32–/96), all
// values distinct, none covering 127.0.0.0/8 or ::1 (the benchmark client's own address), plus
// probe decisions on 127.0.0.2 (so a request from there must be refused: enforcement is live).
//
// test/harness/fake-lapi.ts bigStartupBody() only makes IPv4 addresses and IPv4 /24s, so the
// 1M startup response for the fake LAPI is rendered here and replayed via setStartupStream().
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const PROBE_BLOCKED_IP = '127.0.0.2';

export type Kind = 'ipv4' | 'ipv6' | 'range4' | 'range6';

export interface MixedDecision {
  id: number;
  kind: Kind;
  scope: 'Ip' | 'Range';
  value: string;
  type: string;
  origin: string;
  scenario: string;
  duration: string;
}

export interface Mix {
  ipv4: number;
  ipv6: number;
  range4: number;
  range6: number;
}

export function mixFor(count: number): Mix {
  const ipv4 = Math.round(count * 0.7);
  const ipv6 = Math.round(count * 0.2);
  const ranges = count - ipv4 - ipv6;
  const range4 = Math.round(ranges * 0.7);
  return { ipv4, ipv6, range4, range6: ranges - range4 };
}

/** Deterministic uniform [0, 1) (mulberry32). */
export function prng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The decision mix, shared with the store micro-benchmark. */
export const V4_RANGE_LENS: Array<[number, number]> = [
  [12, 1],
  [16, 4],
  [18, 2],
  [20, 4],
  [21, 2],
  [22, 4],
  [23, 3],
  [24, 40],
  [25, 3],
  [26, 4],
  [27, 4],
  [28, 5],
  [29, 5],
  [30, 4],
];
export const V6_RANGE_LENS: Array<[number, number]> = [
  [32, 5],
  [40, 5],
  [48, 30],
  [56, 15],
  [64, 40],
  [96, 5],
];
export const ORIGINS: Array<[string, number]> = [
  ['CAPI', 60],
  ['crowdsec', 20],
  ['lists:firehol_cybercrime', 10],
  ['lists:tor-exit-nodes', 5],
  ['cscli', 5],
];
export const TYPES: Array<[string, number]> = [
  ['ban', 94],
  ['captcha', 5],
  ['throttle', 1],
];
// The category pattern repeats every 10 decisions: 7 IPv4, 2 IPv6, 1 range (families interleave).
const PATTERN: Array<'ipv4' | 'ipv6' | 'range'> = ['ipv4', 'ipv4', 'ipv6', 'ipv4', 'ipv4', 'range', 'ipv4', 'ipv6', 'ipv4', 'ipv4'];

const v4 = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
/** Not 0/8, 10/8 (lab networks), 127/8 (the client), 224/3 (multicast, reserved). */
const usableV4 = (n: number): boolean => {
  const a = n >>> 24;
  return a !== 0 && a !== 10 && a !== 127 && a < 224;
};

/** Decisions in a stable order; `count` in total, the probe decisions included. */
export function* mixedDecisions(count: number, opts: { seed?: number; probes?: string[] } = {}): Generator<MixedDecision> {
  const rnd = prng(opts.seed ?? 0x5eed);
  const rint = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(w: Array<[T, number]>): T => {
    let r = rnd() * w.reduce((a, [, x]) => a + x, 0);
    for (const [v, x] of w) if ((r -= x) < 0) return v;
    return w[w.length - 1][0];
  };
  const probes = opts.probes ?? [PROBE_BLOCKED_IP];
  const mix = mixFor(count);
  const left: Mix = { ...mix, ipv4: mix.ipv4 - probes.length };
  const seenRanges = new Set<string>();
  const base = 0x2545f491;
  let v4i = 0;
  let v6i = 0;
  let id = 1;
  const meta = (): Pick<MixedDecision, 'type' | 'origin' | 'scenario' | 'duration'> => ({
    type: pick(TYPES),
    origin: pick(ORIGINS),
    scenario: `crowdsecurity/scenario-${rint(60)}`,
    duration: `${1 + rint(167)}h${rint(60)}m${rint(60)}.${rint(1e6)}s`,
  });
  for (const p of probes) {
    yield { id: id++, kind: 'ipv4', scope: 'Ip', value: p, type: 'ban', origin: 'cscli', scenario: 'bench/probe', duration: '167h' };
  }
  const nextIpv4 = (): MixedDecision => {
    let a: number;
    // i * odd constant mod 2^32 is a bijection: distinct addresses.
    do a = (Math.imul(v4i++, 0x9e3779b1) + base) >>> 0;
    while (!usableV4(a));
    left.ipv4--;
    return { id: id++, kind: 'ipv4', scope: 'Ip', value: v4(a), ...meta() };
  };
  const nextIpv6 = (): MixedDecision => {
    const i = v6i++;
    const g = [0x2001 + rint(0xdff), rint(65536), rint(65536), rint(65536), rint(65536), rint(65536), i >>> 16, i & 0xffff];
    left.ipv6--;
    return { id: id++, kind: 'ipv6', scope: 'Ip', value: g.map((x) => x.toString(16)).join(':'), ...meta() };
  };
  const nextRange = (): MixedDecision => {
    const want4 = left.range6 === 0 || (left.range4 > 0 && rnd() < left.range4 / (left.range4 + left.range6));
    for (let tries = 0; tries < 1000; tries++) {
      let value: string;
      if (want4) {
        const len = pick(V4_RANGE_LENS);
        const net = ((rnd() * 4294967296) >>> 0) & (0xffffffff << (32 - len));
        if (!usableV4(net >>> 0)) continue;
        value = `${v4(net >>> 0)}/${len}`;
      } else {
        const len = pick(V6_RANGE_LENS);
        const g = [0x2001 + rint(0xdff), rint(65536), rint(65536), rint(65536), rint(65536), rint(65536), rint(65536), rint(65536)];
        for (let k = 0; k < 8; k++) {
          const bits = len - k * 16;
          if (bits <= 0) g[k] = 0;
          else if (bits < 16) g[k] &= (0xffff << (16 - bits)) & 0xffff;
        }
        value = `${g.map((x) => x.toString(16)).join(':')}/${len}`;
      }
      if (seenRanges.has(value)) continue;
      seenRanges.add(value);
      if (want4) left.range4--;
      else left.range6--;
      return { id: id++, kind: want4 ? 'range4' : 'range6', scope: 'Range', value, ...meta() };
    }
    throw new Error('decisions: cannot find a fresh range');
  };
  for (let k = probes.length; k < count; k++) {
    let cat = PATTERN[k % PATTERN.length];
    const has = (c: typeof cat): boolean => (c === 'ipv4' ? left.ipv4 : c === 'ipv6' ? left.ipv6 : left.range4 + left.range6) > 0;
    if (!has(cat)) cat = (['ipv4', 'ipv6', 'range'] as const).find(has) ?? cat;
    yield cat === 'ipv4' ? nextIpv4() : cat === 'ipv6' ? nextIpv6() : nextRange();
  }
}

/**
 * The startup response `{"deleted":null,"new":[...]}` for `count` mixed decisions, pre-rendered
 * into Buffers of `batch` decisions so the fake LAPI can replay it at wire speed.
 */
export function renderStartupBody(count: number, batch = 2000): { chunks: Buffer[]; bytes: number; mix: Mix } {
  const chunks: Buffer[] = [Buffer.from('{"deleted":null,"new":[')];
  let buf: string[] = [];
  let first = true;
  const flush = (): void => {
    chunks.push(Buffer.from((first ? '' : ',') + buf.join(',')));
    first = false;
    buf = [];
  };
  const mix: Mix = { ipv4: 0, ipv6: 0, range4: 0, range6: 0 };
  for (const d of mixedDecisions(count)) {
    mix[d.kind]++;
    buf.push(
      JSON.stringify({
        duration: d.duration,
        id: d.id,
        origin: d.origin,
        scenario: d.scenario,
        scope: d.scope,
        type: d.type,
        value: d.value,
      }),
    );
    if (buf.length === batch) flush();
  }
  if (buf.length > 0) flush();
  chunks.push(Buffer.from(']}'));
  return { chunks, bytes: chunks.reduce((a, c) => a + c.length, 0), mix };
}

/**
 * CSV files for `cscli decisions import` (1.4.6 gives every line the --scope flag, so addresses
 * and ranges go to separate files: import ips with scope Ip and ranges with scope Range).
 */
export async function writeImportFiles(count: number, ipsFile: string, rangesFile: string): Promise<Mix> {
  const ips = createWriteStream(ipsFile);
  const ranges = createWriteStream(rangesFile);
  const mix: Mix = { ipv4: 0, ipv6: 0, range4: 0, range6: 0 };
  ips.write('duration,value\n');
  ranges.write('duration,value\n');
  for (const d of mixedDecisions(count)) {
    mix[d.kind]++;
    const line = `167h,${d.value}\n`;
    const out = d.scope === 'Ip' ? ips : ranges;
    if (!out.write(line)) await once(out, 'drain');
  }
  ips.end();
  ranges.end();
  await Promise.all([once(ips, 'finish'), once(ranges, 'finish')]);
  return mix;
}
