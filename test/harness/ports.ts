import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

// Ports come from below the kernel's ephemeral range: a port-0 bind or an outgoing connection
// (of this suite or of a second copy running beside it) never gets one, so the only way to lose
// a port between freePort and the caller's bind is another freePort picking the same random port
// in that moment. Within one process a port is never handed out twice.
const handedOut = new Set<number>();
const LOW = 10_000;

function ephemeralStart(): number {
  try {
    const [start] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(start) && start > LOW + 1000) return start;
  } catch {
    // Not Linux: fall back to the IANA dynamic range's start.
  }
  return 32_768;
}

const HIGH = ephemeralStart();

function tryBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A TCP port on `host` that is free now, outside the ephemeral range, and new to this process. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await tryBind(port, host)) return port;
  }
  throw new Error('freePort: no free port found in 200 tries');
}
