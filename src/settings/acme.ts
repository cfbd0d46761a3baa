// The --acme-* flags and --cert-dir → AcmeSettings.
import type { AcmeSettings } from '../tls/settings';
import type { Source } from './sources';
import { SettingsError } from './types';
import { duration } from './values';

export function acmeSettings(source: Source): AcmeSettings {
  const { get, withDefault } = source;
  const challenge = withDefault('acmeChallenge');
  if (challenge !== 'tls-alpn-01' && challenge !== 'http-01') {
    throw new SettingsError(`--acme-challenge / NB_PROXY_ACME_CHALLENGE: "${challenge}" is not tls-alpn-01 or http-01`);
  }
  const directoryUrl = withDefault('acmeDirectory');
  if (!/^https?:\/\/[^/]/.test(directoryUrl)) {
    throw new SettingsError(`--acme-directory / NB_PROXY_ACME_DIRECTORY: "${directoryUrl}" is not an http(s) URL`);
  }
  return {
    email: get('acmeEmail'),
    directoryUrl,
    caCertPath: get('acmeCaCert'),
    challenge,
    renewBeforeMs: get('acmeRenewBefore') === undefined ? undefined : duration(source, 'acmeRenewBefore'),
    certDir: withDefault('certDir'),
  };
}
