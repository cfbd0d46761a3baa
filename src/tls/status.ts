// What /status and `netbird-proxy status` show per certificate name.

export interface CertificateStatus {
  /** The configured domain the certificate answers for (may be "*.example.org" for files). */
  name: string;
  service: string;
  source: 'acme' | 'file';
  /** valid: serving; expired: serving a certificate past not_after; pending: none yet (ACME ordering or backing off). */
  state: 'valid' | 'expired' | 'pending';
  /** Names in the served certificate. */
  names: string[];
  issuer: string | null;
  not_before: string | null;
  not_after: string | null;
  serial: string | null;
  last_error: string | null;
  last_error_at: string | null;
  /** ACME: when renewal is due. Files: null. */
  next_renewal: string | null;
  /** ACME: when the renewer looks at the name next (renewal check or retry after a failure). */
  next_check: string | null;
}
