// TCP read buffers: a full read doubles the next buffer up to 1 MiB; a partial one gives the class it
// fitted (an idle connection holds a small buffer); released buffers are taken again.
import t from 'tap';
import { MAX_READ, MIN_READ, nextReadSize, releaseBuffer, takeBuffer } from '../../../src/forward/read-buffers';

t.test('sizes follow the reads', async (t) => {
  t.equal(nextReadSize(MIN_READ, MIN_READ), 2 * MIN_READ, 'full read: doubled');
  t.equal(nextReadSize(MAX_READ, MAX_READ), MAX_READ, 'capped at 1 MiB');
  t.equal(nextReadSize(100, MAX_READ), MIN_READ, 'a small read after bulk: back to the smallest');
  t.equal(nextReadSize(300_000, MAX_READ), 512 * 1024, 'the class the read fitted');
  t.equal(nextReadSize(700_000, MAX_READ), MAX_READ);
});

t.test('released buffers are reused, by class', async (t) => {
  const a = takeBuffer(64 * 1024);
  t.equal(a.length, 64 * 1024);
  releaseBuffer(a);
  t.equal(takeBuffer(64 * 1024), a, 'the same buffer again');
  t.not(takeBuffer(32 * 1024), a, 'not for another class');
});
