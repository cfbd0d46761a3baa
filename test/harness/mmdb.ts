// Writes a tiny MaxMind DB (binary format 2.0) that places chosen IPv4 addresses in chosen
// countries, so tests can give 127.0.0.x a country. Only what a country lookup reads:
// an IPv6 tree (IPv4 under ::/96), 24-bit records, {country: {iso_code}} records.
import { writeFileSync } from 'node:fs';

const RECORD_BYTES = 3;

/** One data-section value: map, UTF-8 string or unsigned int (uint16/uint32 by size). */
type Value = string | { uint16: number } | { uint32: number } | Value[] | { [key: string]: Value };

function control(type: number, size: number): Buffer {
  if (size >= 29) throw new Error('mmdb test writer: sizes up to 28 only');
  return type <= 7 ? Buffer.from([(type << 5) | size]) : Buffer.from([size, type - 7]);
}

function encode(v: Value): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([control(2, b.length), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([control(11, v.length), ...v.map(encode)]);
  if ('uint16' in v && typeof v.uint16 === 'number') return uint(5, v.uint16, 2);
  if ('uint32' in v && typeof v.uint32 === 'number') return uint(6, v.uint32, 4);
  const entries = Object.entries(v as Record<string, Value>);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
}

function uint(type: number, n: number, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.writeUIntBE(n, 0, bytes);
  return Buffer.concat([control(type, bytes), b]);
}

/** 128 bits of ::a.b.c.d, most significant first. */
function bitsOf(ipv4: string): number[] {
  const parts = ipv4.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`not an IPv4 address: ${ipv4}`);
  const bits = new Array<number>(96).fill(0);
  for (const p of parts) for (let i = 7; i >= 0; i--) bits.push((p >> i) & 1);
  return bits;
}

/** Writes the database to `path`: each key an IPv4 address (/32), each value an ISO country code. */
export function writeCountryMmdb(path: string, countries: Record<string, string>): void {
  // Data section: one record per distinct code.
  const dataParts: Buffer[] = [];
  const offsets = new Map<string, number>();
  let dataSize = 0;
  for (const code of new Set(Object.values(countries))) {
    const rec = encode({ country: { iso_code: code } });
    offsets.set(code, dataSize);
    dataParts.push(rec);
    dataSize += rec.length;
  }
  // Tree: node i = [left, right]; a record is a node index, a data offset, or empty.
  type Rec = { node: number } | { data: number } | undefined;
  const nodes: [Rec, Rec][] = [[undefined, undefined]];
  for (const [ip, code] of Object.entries(countries)) {
    const bits = bitsOf(ip);
    let n = 0;
    for (let depth = 0; depth < bits.length - 1; depth++) {
      const r = nodes[n][bits[depth]];
      if (r !== undefined && 'data' in r) throw new Error('mmdb test writer: overlapping entries');
      if (r === undefined) {
        nodes.push([undefined, undefined]);
        nodes[n][bits[depth]] = { node: nodes.length - 1 };
        n = nodes.length - 1;
      } else {
        n = r.node;
      }
    }
    nodes[n][bits[bits.length - 1]] = { data: offsets.get(code) as number };
  }
  const nodeCount = nodes.length;
  const value = (r: Rec): number => (r === undefined ? nodeCount : 'node' in r ? r.node : nodeCount + 16 + r.data);
  const tree = Buffer.alloc(nodeCount * 2 * RECORD_BYTES);
  nodes.forEach(([l, r], i) => {
    tree.writeUIntBE(value(l), i * 2 * RECORD_BYTES, RECORD_BYTES);
    tree.writeUIntBE(value(r), i * 2 * RECORD_BYTES + RECORD_BYTES, RECORD_BYTES);
  });
  const metadata = encode({
    node_count: { uint32: nodeCount },
    record_size: { uint16: RECORD_BYTES * 8 },
    ip_version: { uint16: 6 },
    database_type: 'Test-Country',
    languages: ['en'],
    binary_format_major_version: { uint16: 2 },
    binary_format_minor_version: { uint16: 0 },
    build_epoch: { uint32: Math.floor(Date.now() / 1000) },
    description: { en: 'netbird-proxy test database' },
  });
  const marker = Buffer.concat([Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com')]);
  writeFileSync(path, Buffer.concat([tree, Buffer.alloc(16), ...dataParts, marker, metadata]));
}
