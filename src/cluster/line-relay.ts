// Workers' stdout and stderr reach the primary's through it, whole lines at a time: every worker
// writes into its own pipe, and only complete lines are passed on, so lines from different workers
// never interleave, whatever the primary's stdout is (pipe, terminal, file).
import type { Readable, Writable } from 'node:stream';

export function relayLines(from: Readable, to: Writable): void {
  let rest: Buffer | undefined;
  from.on('data', (chunk: Buffer) => {
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      rest = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
      return;
    }
    const whole = chunk.subarray(0, last + 1);
    const out = rest === undefined ? whole : Buffer.concat([rest, whole]);
    rest = last + 1 < chunk.length ? chunk.subarray(last + 1) : undefined;
    if (!to.write(out)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => {
    if (rest !== undefined) to.write(Buffer.concat([rest, Buffer.from('\n')]));
    rest = undefined;
  });
}
