export type AcmeChallengeType = 'tls-alpn-01' | 'http-01';

export interface AcmeSettings {
  email: string | undefined;
  directoryUrl: string;
  caCertPath: string | undefined;
  challenge: AcmeChallengeType;
  /** Undefined: renew when a third of the lifetime remains. */
  renewBeforeMs: number | undefined;
  certDir: string;
}
