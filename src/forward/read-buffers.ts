// Buffers for TCP upstream reads (net's `onread`): one read lands in one buffer, which is written to
// the client as is. Size classes from 4 KiB to 1 MiB: a connection moving bulk data doubles its
// buffer on every full read (fewer, larger reads: each read costs a trip through JS, which is what
// bounds a Node splice), and one that went quiet is given the class its last read fitted, so an idle
// connection holds a small one. Freed buffers are kept per class, a few each, for the next reads.
export const MIN_READ = 4 * 1024;
export const MAX_READ = 1024 * 1024;
const MIN_SHIFT = 12;
const CLASSES = 9; // 4 KiB … 1 MiB
const FREE_PER_CLASS = 16;

const free: Buffer[][] = Array.from({ length: CLASSES }, () => []);

function classOf(size: number): number {
  return Math.log2(size) - MIN_SHIFT;
}

/** A buffer of `size` bytes, a power of two from MIN_READ to MAX_READ. */
export function takeBuffer(size: number): Buffer {
  return free[classOf(size)]?.pop() ?? Buffer.allocUnsafeSlow(size);
}

/** Gives back a buffer nothing refers to any more (its write has completed). */
export function releaseBuffer(buf: Buffer): void {
  const list = free[classOf(buf.length)];
  if (list !== undefined && list.length < FREE_PER_CLASS) list.push(buf);
}

/** The size for the next read after one of `read` bytes into a buffer of `size`. */
export function nextReadSize(read: number, size: number): number {
  if (read >= size) return Math.min(size * 2, MAX_READ);
  let next = MIN_READ;
  while (next < read) next *= 2;
  return next;
}
