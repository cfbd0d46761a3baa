// The one object the entrypoints talk to for TLS: certificates per service (files or ACME), the
// HTTPS server options with SNI selection, ACME challenge answers, status and metrics.
import type { Socket } from 'node:net';
import type { SecureContext, TlsOptions } from 'node:tls';
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ConfigError } from '../config/errors';
import type { ServicesConfig } from '../config/types';
import type { AcmeSettings } from './settings';
import { ACME_TLS_ALPN, AlpnResponder } from './alpn-responder';
import { CertDir } from './acme/cert-dir';
import { Challenges, type ChallengeChange } from './acme/challenges';
import type { AcmeFollower, AcmeUpdate, CertSource } from './acme/follower';
import { AcmeIssuer, type IssuerOptions } from './acme/issuer';
import { DEFAULT_TIMING, Renewer, type Issuer, type RenewerTiming } from './acme/renewer';
import { peekClientHello } from './client-hello';
import type { TlsMetricsSink } from './metrics';
import { certCovers, type CertPair } from './pem';
import { buildServerOptions } from './server-options';
import { SniTable } from './sni-table';
import { StaticCert } from './static-cert';
import type { CertificateStatus } from './status';

export interface TlsManagerOptions {
  acme: AcmeSettings;
  log: Logger;
  metrics?: TlsMetricsSink;
  /** Renewal schedule; tests shorten it. --acme-renew-before (acme.renewBeforeMs) wins over timing.renewBeforeMs. */
  timing?: Partial<RenewerTiming>;
  /** ACME client tuning; tests shorten the polling. */
  issuer?: Partial<Pick<IssuerOptions, 'pollMinMs' | 'pollMaxMs' | 'requestRetries' | 'requestTimeoutMs'>>;
  /** Poll interval of certificate files (ms), besides inotify. */
  staticPollMs?: number;
  /** Replaces the ACME client (tests of faults only). */
  issuerOverride?: Issuer;
  /** --workers > 1, the primary: every certificate installed and every challenge change, for the workers. */
  share?: AcmeShare;
  /** --workers > 1, a worker: certificates and challenges come from the primary; nothing is ordered here. */
  follower?: AcmeFollower;
}

export interface AcmeShare {
  certificate(domain: string, pair: CertPair): void;
  /** Resolves once every worker knows the change (the CA is told to validate after that). */
  challenge(change: ChallengeChange): Promise<void>;
}

type Binding = { source: 'file'; service: string; cert: StaticCert } | { source: 'acme'; service: string; domain: string };

const HELLO_TIMEOUT_MS = 10_000;

export class TlsManager {
  private readonly sni = new SniTable<Binding>();
  private readonly files = new Map<string, StaticCert>();
  private acme: { challenges: Challenges; renewer: CertSource; responder: AlpnResponder } | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: TlsManagerOptions) {
    this.log = opts.log;
  }

  /** True when some service is served over HTTPS (the HTTPS entrypoint is needed). */
  get enabled(): boolean {
    return this.sni.names().length > 0;
  }

  /**
   * Makes the certificates match services.yaml: opens new certificate files (a bad pair throws a
   * ConfigError naming file, service and field, and nothing changes), starts ACME for new domains,
   * and forgets what was removed. Call at start and after every accepted reload.
   */
  async apply(config: ServicesConfig): Promise<void> {
    const opened = new Map<string, StaticCert>();
    const bindings: [string, Binding][] = [];
    const acmeDomains = new Map<string, string>();
    try {
      for (const svc of config.services) {
        if (svc.protocol !== 'http' || svc.tls.mode === 'off') continue;
        if (svc.tls.mode === 'acme') {
          for (const d of svc.domains) {
            acmeDomains.set(d, svc.name);
            bindings.push([d, { source: 'acme', service: svc.name, domain: d }]);
          }
          continue;
        }
        const key = `${svc.name}\0${svc.tls.cert}\0${svc.tls.key}`;
        let cert = this.files.get(key) ?? opened.get(key);
        if (cert === undefined) {
          cert = await this.openFile(config.file, svc.name, svc.tls.cert, svc.tls.key);
          opened.set(key, cert);
        }
        for (const d of svc.domains) {
          if (!certCovers(cert.pair.info.names, d)) {
            this.log.warn({ service: svc.name, domain: d, names: cert.pair.info.names }, 'the certificate file does not cover this domain');
          }
          bindings.push([d, { source: 'file', service: svc.name, cert }]);
        }
      }
      if (acmeDomains.size > 0) await this.startAcme();
    } catch (err) {
      for (const c of opened.values()) c.close();
      throw err;
    }

    const keep = new Set<StaticCert>(bindings.flatMap(([, b]) => (b.source === 'file' ? [b.cert] : [])));
    for (const [key, cert] of this.files) {
      if (keep.has(cert)) continue;
      cert.close();
      this.files.delete(key);
    }
    for (const [key, cert] of opened) this.files.set(key, cert);
    for (const name of this.sni.names()) this.sni.delete(name);
    for (const [name, b] of bindings) this.sni.set(name, b);
    this.acme?.renewer.setDomains(acmeDomains.keys());
  }

  private async openFile(file: string, service: string, certPath: string, keyPath: string): Promise<StaticCert> {
    try {
      return await StaticCert.open({
        service,
        certPath,
        keyPath,
        pollMs: this.opts.staticPollMs ?? 5000,
        log: this.log,
        onChange: (pair) => this.log.debug({ service, serial: pair.info.serial }, 'certificate file change applied'),
      });
    } catch (err) {
      const reason = (err as Error).message;
      throw new ConfigError(reason, { file, service, field: reason.startsWith(`${keyPath}:`) ? 'tls.key' : 'tls.cert' }, { cause: err });
    }
  }

  private async startAcme(): Promise<void> {
    if (this.acme !== undefined) return;
    const s = this.opts.acme;
    const follower = this.opts.follower;
    if (follower !== undefined) {
      const challenges = follower.challenges;
      this.acme = { challenges, renewer: follower, responder: new AlpnResponder((name) => challenges.alpnContext(name)) };
      return;
    }
    const dir = new CertDir(s.certDir, s.directoryUrl);
    try {
      await dir.init();
    } catch (err) {
      throw new Error(`--cert-dir ${s.certDir}: cannot create ${dir.root}: ${(err as Error).message}`, { cause: err });
    }
    let caCertPem: string | undefined;
    if (s.caCertPath !== undefined) {
      try {
        caCertPem = await readFile(s.caCertPath, 'utf8');
      } catch (err) {
        throw new Error(`--acme-ca-cert ${s.caCertPath}: cannot read: ${(err as Error).message}`, { cause: err });
      }
    }
    const share = this.opts.share;
    const challenges = new Challenges(dir, share && ((change) => share.challenge(change)));
    const issuer =
      this.opts.issuerOverride ??
      new AcmeIssuer(
        {
          directoryUrl: s.directoryUrl,
          caCertPem,
          email: s.email,
          challenge: s.challenge,
          pollMinMs: 1000,
          pollMaxMs: 10_000,
          requestRetries: 3,
          requestTimeoutMs: 30_000,
          ...this.opts.issuer,
        },
        dir,
        challenges,
      );
    const timing: RenewerTiming = { ...DEFAULT_TIMING, ...this.opts.timing };
    if (s.renewBeforeMs !== undefined) timing.renewBeforeMs = s.renewBeforeMs;
    const renewer = new Renewer(
      issuer,
      dir,
      timing,
      {
        installed: (domain, pair) => {
          this.log.debug({ domain, serial: pair.info.serial }, 'ACME certificate in service');
          this.opts.share?.certificate(domain, pair);
        },
        order: (result) => this.opts.metrics?.acmeOrder(result),
      },
      this.log,
    );
    const responder = new AlpnResponder((name) => challenges.alpnContext(name));
    this.acme = { challenges, renewer, responder };
    this.log.info({ directory: s.directoryUrl, challenge: s.challenge, certDir: dir.root }, 'ACME enabled');
  }

  /** The certificate context for a server name, or why there is none (the handshake then fails). */
  contextFor(serverName: string): SecureContext | Error {
    const b = this.sni.lookup(serverName);
    if (b === undefined) return new Error(`no service with tls for ${JSON.stringify(serverName)}`);
    if (b.source === 'file') return b.cert.pair.context;
    const st = this.acme?.renewer.get(b.domain);
    if (st?.pair !== undefined) return st.pair.context;
    const why = st?.lastError === undefined ? 'the ACME order is in progress' : `the last ACME order failed: ${st.lastError}`;
    return new Error(`no certificate yet for ${b.domain}: ${why}`);
  }

  /**
   * Options for the HTTPS server (tls.createServer / https.createServer): TLS 1.2-1.3, Mozilla
   * intermediate ciphers, ALPN http/1.1, session tickets, and the SNI callback over contextFor().
   */
  serverOptions(): TlsOptions {
    return buildServerOptions((name) => this.contextFor(name));
  }

  /**
   * Call for every accepted HTTPS connection before handing it to the HTTPS server (after the PROXY
   * header, if any). Resolves true when the caller should go on (emit 'connection' on its server);
   * false when the socket was taken: a tls-alpn-01 validation answered here, or a dead connection.
   * Without tls-alpn-01 in use it resolves true at once, without reading.
   */
  async routeConnection(socket: Socket): Promise<boolean> {
    const acme = this.acme;
    if (acme === undefined || this.opts.acme.challenge !== 'tls-alpn-01') return true;
    let hello;
    try {
      hello = await peekClientHello(socket, HELLO_TIMEOUT_MS);
    } catch {
      socket.destroy();
      return false;
    }
    if (hello === undefined || !hello.alpn.includes(ACME_TLS_ALPN)) return true;
    acme.responder.answer(socket);
    return false;
  }

  /**
   * For the HTTP entrypoint: the body of the answer to GET http://<host><path> when it is a
   * pending http-01 challenge (serve it as text/plain, 200), otherwise undefined. Checked before
   * the redirect to https and before the restriction chain.
   */
  answerHttp01(path: string): string | undefined {
    return this.acme?.challenges.answerHttp01(path);
  }

  /** --workers > 1, the primary: the certificates it holds and the challenges pending, for a worker that starts. */
  acmeSnapshot(): AcmeUpdate {
    const acme = this.acme;
    if (acme === undefined || !(acme.renewer instanceof Renewer)) return { certs: [], challenges: [] };
    const certs = acme.renewer
      .statuses()
      .flatMap((st) => (st.pair === undefined ? [] : [{ domain: st.domain, certPem: st.pair.certPem, keyPem: st.pair.keyPem }]));
    return { certs, challenges: acme.challenges.pending() };
  }

  /** One row per configured TLS name. */
  status(): CertificateStatus[] {
    const rows: CertificateStatus[] = [];
    const iso = (d: Date | undefined): string | null => (d === undefined ? null : d.toISOString());
    const stateOf = (p: CertPair | undefined): CertificateStatus['state'] =>
      p === undefined ? 'pending' : p.info.notAfter.getTime() <= Date.now() ? 'expired' : 'valid';
    const certFields = (p: CertPair | undefined) => ({
      names: p?.info.names ?? [],
      issuer: p?.info.issuer ?? null,
      not_before: iso(p?.info.notBefore),
      not_after: iso(p?.info.notAfter),
      serial: p?.info.serial ?? null,
    });
    for (const name of this.sni.names().sort()) {
      const b = this.sni.get(name);
      if (b === undefined) continue;
      if (b.source === 'file') {
        const err = b.cert.error;
        rows.push({
          name,
          service: b.service,
          source: 'file',
          state: stateOf(b.cert.pair),
          ...certFields(b.cert.pair),
          last_error: err?.message ?? null,
          last_error_at: iso(err?.at),
          next_renewal: null,
          next_check: null,
        });
        continue;
      }
      const st = this.acme?.renewer.get(b.domain);
      rows.push({
        name,
        service: b.service,
        source: 'acme',
        state: stateOf(st?.pair),
        ...certFields(st?.pair),
        last_error: st?.lastError ?? null,
        last_error_at: iso(st?.lastErrorAt),
        next_renewal: iso(st?.renewAt),
        next_check: iso(st?.nextCheckAt),
      });
    }
    return rows;
  }

  /** Stops watching files and scheduling orders; waits for a running order to end. */
  async close(): Promise<void> {
    for (const c of this.files.values()) c.close();
    this.files.clear();
    await this.acme?.renewer.close();
  }
}
