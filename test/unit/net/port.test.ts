// Decimal ports as the config, X-Forwarded-For and PROXY v1 take them.
import t from 'tap';
import { parsePort } from '../../../src/net/port';

t.test('parsePort', async (t) => {
  const good: [string, number][] = [
    ['0', 0],
    ['1', 1],
    ['9', 9],
    ['10', 10],
    ['80', 80],
    ['443', 443],
    ['65535', 65535],
    ['09'.slice(1), 9],
  ];
  for (const [s, want] of good) t.equal(parsePort(s), want, s);
  // "/" and ":" are the characters just outside "0".."9".
  for (const s of ['', '-1', '+1', '00', '01', '007', '65536', '99999', '100000', '123456', '1/', '1:', '/', ':', ' 1', '1 ', 'x', '8o']) {
    t.equal(parsePort(s), -1, JSON.stringify(s));
  }
  t.equal(parsePort('host:8080', 5), 8080, 'from an offset');
  t.equal(parsePort(':0', 1), 0);
  t.equal(parsePort(':', 1), -1, 'nothing after the offset');
  t.equal(parsePort(':123456', 1), -1, 'six digits after the offset');
  t.equal(parsePort('x:01', 2), -1, 'a leading zero after the offset');
  t.equal(parsePort('x:10', 2), 10, 'a zero that is not leading');
});
