// What the Certificates card shows, derived from /status `certificates` (no DOM here). /status has
// one row per configured name; rows of one service serving the same certificate become one entry.
import type { CertificateStatus } from './api.js';

export type CertState = 'valid' | 'renewing' | 'failed' | 'pending' | 'expired';

export interface CertEntry {
  hosts: string[];
  service: string;
  source: 'acme' | 'file';
  state: CertState;
  /** Names in the served certificate. */
  names: string[];
  issuer: string | null;
  notAfter: Date | null;
  /** Whole days until not_after (negative once expired); null without a certificate. */
  daysLeft: number | null;
  /** Less time left than the renewal threshold. */
  renewalDue: boolean;
  nextRenewal: Date | null;
  nextCheck: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
}

const DAY_MS = 86_400_000;

const date = (iso: string | null): Date | null => (iso === null ? null : new Date(iso));

/**
 * When renewal is due: ACME says so (next_renewal, which honours --acme-renew-before); for files
 * the same default as ACME, a third of the lifetime left (30 days for a 90-day certificate).
 */
function renewalPoint(c: CertificateStatus): number | null {
  if (c.next_renewal !== null) return Date.parse(c.next_renewal);
  if (c.not_before === null || c.not_after === null) return null;
  const start = Date.parse(c.not_before);
  const end = Date.parse(c.not_after);
  return end - (end - start) / 3;
}

function stateOf(c: CertificateStatus, renewalDue: boolean): CertState {
  if (c.state === 'expired') return 'expired';
  if (c.state === 'pending') return c.last_error !== null ? 'failed' : 'pending';
  // Only the ACME renewer renews: a file past its threshold stays valid, with the warning on its expiry.
  return c.source === 'acme' && renewalDue ? 'renewing' : 'valid';
}

export function certificateEntries(rows: readonly CertificateStatus[], now = Date.now()): CertEntry[] {
  const entries = new Map<string, CertEntry>();
  for (const c of rows) {
    const key = c.serial === null ? `name\0${c.name}` : `cert\0${c.service}\0${c.source}\0${c.serial}`;
    const seen = entries.get(key);
    if (seen !== undefined) {
      seen.hosts.push(c.name);
      continue;
    }
    const due = renewalPoint(c);
    const renewalDue = due !== null && now >= due;
    const notAfter = date(c.not_after);
    entries.set(key, {
      hosts: [c.name],
      service: c.service,
      source: c.source,
      state: stateOf(c, renewalDue),
      names: c.names,
      issuer: c.issuer,
      notAfter,
      daysLeft: notAfter === null ? null : Math.floor((notAfter.getTime() - now) / DAY_MS),
      renewalDue,
      nextRenewal: date(c.next_renewal),
      nextCheck: date(c.next_check),
      lastError: c.last_error,
      lastErrorAt: date(c.last_error_at),
    });
  }
  return [...entries.values()];
}

/** "2026-12-02 19:20 UTC": unambiguous in every locale, as certificates are read in UTC. */
export function utc(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function daysLeftText(notAfter: Date, now = Date.now()): string {
  const left = notAfter.getTime() - now;
  if (left <= 0) {
    const ago = Math.floor(-left / DAY_MS);
    return ago === 0 ? 'expired less than a day ago' : ago === 1 ? 'expired 1 day ago' : `expired ${ago} days ago`;
  }
  const days = Math.floor(left / DAY_MS);
  if (days === 0) return `less than a day left (${Math.ceil(left / 3_600_000)} h)`;
  return days === 1 ? '1 day left' : `${days} days left`;
}
