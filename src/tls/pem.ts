// A certificate chain and its private key: parsed, checked as a pair, and described.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';

export interface CertInfo {
  /** DNS names from subjectAltName (lower-case, "*.x" kept), then IP addresses. */
  names: string[];
  /** Issuer's CN when it has one, else the whole issuer DN on one line. */
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  serial: string;
}

export interface CertPair {
  /** Leaf first, then the intermediates, as served. */
  certPem: string;
  keyPem: string;
  info: CertInfo;
  context: SecureContext;
}

const PEM_CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificate blocks of a file, in order. */
export function splitPemCerts(pem: string): string[] {
  return pem.match(PEM_CERT_RE) ?? [];
}

function parseDate(s: string): Date {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new Error(`unreadable validity date ${JSON.stringify(s)}`);
  return new Date(ms);
}

function issuerName(dn: string): string {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(dn);
  return cn?.[1] ?? dn.replace(/\n/g, ', ');
}

export function describeCert(cert: X509Certificate): CertInfo {
  const dns: string[] = [];
  const ips: string[] = [];
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) dns.push(part.slice(4).toLowerCase());
    else if (part.startsWith('IP Address:')) ips.push(part.slice(11));
  }
  return {
    names: [...dns, ...ips],
    issuer: issuerName(cert.issuer),
    notBefore: parseDate(cert.validFrom),
    notAfter: parseDate(cert.validTo),
    serial: cert.serialNumber,
  };
}

/**
 * Parses a chain and its key and checks that they belong together. Throws an Error whose message
 * is a reason fit for "<file>: <reason>".
 */
export function parseCertPair(certPem: string, keyPem: string): CertPair {
  const blocks = splitPemCerts(certPem);
  const first = blocks[0];
  if (first === undefined) throw new Error('no PEM certificate ("-----BEGIN CERTIFICATE-----") found');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(first);
  } catch (err) {
    throw new Error(`the first certificate cannot be parsed: ${(err as Error).message}`);
  }
  blocks.slice(1).forEach((b, i) => {
    try {
      new X509Certificate(b);
    } catch (err) {
      throw new Error(`certificate ${i + 2} of the chain cannot be parsed: ${(err as Error).message}`);
    }
  });
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new Error(`the private key cannot be parsed: ${(err as Error).message}`);
  }
  if (!leaf.checkPrivateKey(key)) throw new Error('the private key does not match the certificate');
  const chain = blocks.join('\n') + '\n';
  let context: SecureContext;
  try {
    context = createSecureContext({ cert: chain, key: keyPem });
  } catch (err) {
    throw new Error(`OpenSSL refuses the pair: ${(err as Error).message}`);
  }
  return { certPem: chain, keyPem, info: describeCert(leaf), context };
}

/** Whether a certificate name ("a.example.org" or "*.example.org") covers the host name. */
export function nameCovers(certName: string, host: string): boolean {
  if (certName === host) return true;
  if (!certName.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === certName.slice(2);
}

/** Whether a certificate with these names serves `domain` (a configured domain, possibly "*.x"). */
export function certCovers(names: readonly string[], domain: string): boolean {
  if (domain.startsWith('*.')) return names.includes(domain);
  return names.some((n) => nameCovers(n, domain));
}
