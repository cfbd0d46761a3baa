// The tcp services' listeners, one per listen address, reconciled with each loaded config.
import type { Logger } from 'pino';
import { formatHostPort } from '../config/addr';
import { TcpListener, type TcpListenerOptions } from '../listeners/tcp-listener';
import type { TcpServiceRuntime } from '../services';

export class TcpListeners {
  private readonly listeners = new Map<string, TcpListener>();
  private readonly failed = new Set<string>();
  private readonly failures = new Map<string, { service: string; err: NodeJS.ErrnoException }>();

  constructor(
    private readonly options: TcpListenerOptions,
    private readonly log: Logger,
  ) {}

  /** Addresses whose listener could not be bound at the last reconcile. */
  get unbound(): ReadonlySet<string> {
    return this.failed;
  }

  /** Why each address of `unbound` could not be bound, with its service. */
  get bindFailures(): ReadonlyMap<string, { service: string; err: NodeJS.ErrnoException }> {
    return this.failures;
  }

  /** The bound tcp listeners as service name → address (undefined when there is none), for the start-up line. */
  boundByService(): Record<string, string> | undefined {
    if (this.listeners.size === 0) return undefined;
    const out: Record<string, string> = {};
    for (const [addr, listener] of this.listeners) out[listener.service.name] = addr;
    return out;
  }

  /**
   * A listener whose address stays keeps its socket and connections, and takes the service's new
   * rules and target. Listeners of addresses no longer configured stop accepting (their open
   * connections are left to the re-judgement); new addresses are bound. Returns the addresses that
   * could not be bound.
   */
  async reconcile(services: Iterable<TcpServiceRuntime>): Promise<ReadonlySet<string>> {
    const byAddr = new Map<string, TcpServiceRuntime>();
    for (const service of services) byAddr.set(formatHostPort(service.config.listen), service);
    for (const [addr, listener] of this.listeners) {
      const service = byAddr.get(addr);
      if (service === undefined) {
        void listener.close(false);
        this.listeners.delete(addr);
      } else {
        listener.service = service;
      }
    }
    this.failed.clear();
    this.failures.clear();
    for (const [addr, service] of byAddr) {
      if (this.listeners.has(addr)) continue;
      const listener = new TcpListener(service, this.options);
      try {
        await listener.listen();
        this.listeners.set(addr, listener);
      } catch (err) {
        this.failed.add(addr);
        this.failures.set(addr, { service: service.name, err: err as NodeJS.ErrnoException });
        this.log.error({ service: service.name, listen: addr, err: (err as Error).message }, 'cannot bind tcp listener');
      }
    }
    return this.failed;
  }

  closeAll(): Promise<void> {
    return Promise.all([...this.listeners.values()].map((l) => l.close(true))).then(() => undefined);
  }
}
