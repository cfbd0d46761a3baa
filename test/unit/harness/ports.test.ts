// freePort hands out ports below the kernel's ephemeral range (where port-0 binds and outgoing
// connections never land) and never the same port twice in one process.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { freePort } from '../../harness/ports';

t.test('ports are distinct, bindable and below the ephemeral range', async (t) => {
  const [ephemeralStart] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const ports = await Promise.all(Array.from({ length: 200 }, () => freePort()));
  t.equal(new Set(ports).size, ports.length, 'no port handed out twice');
  t.ok(
    ports.every((p) => p >= 10_000 && p < ephemeralStart),
    `all in [10000, ${ephemeralStart})`,
  );
});
