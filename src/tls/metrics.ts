// Prometheus metrics of the certificate manager.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CertificateStatus } from './status';

export type AcmeOrderResult = 'success' | 'failure';

export interface TlsMetricsSink {
  acmeOrder(result: AcmeOrderResult): void;
}

export class TlsMetrics implements TlsMetricsSink {
  private readonly orders: Counter<'result'>;

  /** `certificates` is read at scrape time. */
  constructor(registry: Registry, certificates: () => readonly CertificateStatus[]) {
    new Gauge({
      name: 'netbird_proxy_certificate_expiry_timestamp_seconds',
      help: 'Expiry (notAfter, Unix seconds) of the certificate served for each configured name',
      labelNames: ['name'],
      registers: [registry],
      // --workers > 1: the primary and every worker hold the certificates; the earliest one served counts.
      aggregator: 'min',
      collect() {
        this.reset();
        for (const c of certificates()) {
          if (c.not_after !== null) this.set({ name: c.name }, Date.parse(c.not_after) / 1000);
        }
      },
    });
    this.orders = new Counter({
      name: 'netbird_proxy_acme_orders_total',
      help: 'ACME certificate orders by result (success, failure)',
      labelNames: ['result'],
      registers: [registry],
    });
    this.orders.inc({ result: 'success' }, 0);
    this.orders.inc({ result: 'failure' }, 0);
  }

  acmeOrder(result: AcmeOrderResult): void {
    this.orders.inc({ result });
  }
}
