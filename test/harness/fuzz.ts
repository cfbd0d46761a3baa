// Seeded generators for fuzz tests: the same seed gives the same inputs, so a failure replays.

/** mulberry32: a small, fast, seedable PRNG returning [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly random: () => number) {}

  int(max: number): number {
    return Math.floor(this.random() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** Flips, inserts, deletes or duplicates a few bytes of `buf`. */
  mutate(buf: Buffer, edits = 1 + this.int(4)): Buffer {
    let out = Buffer.from(buf);
    for (let e = 0; e < edits && out.length > 0; e++) {
      const at = this.int(out.length);
      switch (this.int(5)) {
        case 0:
          out[at] = this.int(256);
          break;
        case 1:
          out = Buffer.concat([out.subarray(0, at), this.bytes(1 + this.int(8)), out.subarray(at)]);
          break;
        case 2:
          out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + this.int(8)))]);
          break;
        case 3:
          out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + 16), out.subarray(at)]);
          break;
        default:
          out = out.subarray(0, at);
      }
    }
    return out;
  }
}
