// Flags, environment and env file → Settings, every value checked; the first problem is a
// SettingsError naming the flag and its env var. Checks run in a fixed order, so one bad input
// always gives the same message.
import { resolveAppSecSettings } from '../appsec/settings';
import { resolveChallengeSettings } from '../challenge/settings';
import { resolveLogFormat } from '../telemetry/log-format';
import { parseHttpsRedirectPort } from '../tls/redirect';
import { acmeSettings } from './acme';
import { adminSettings } from './admin';
import { crowdsecSettings } from './crowdsec';
import { readEnvFile, sourceOf, type RawValues } from './sources';
import { SettingsError, type Settings } from './types';
import { byteCount, duration, hostPort, logLevel, parseBool, streamLimit, workerCount } from './values';

/** `flags` holds only options given on the command line. */
export function resolveSettings(flags: RawValues, env: NodeJS.ProcessEnv, envFileFlag: string | undefined): Settings {
  const envFile = readEnvFile(envFileFlag);
  const source = sourceOf(flags, env, envFile.vars);
  const { get, withDefault } = source;

  const level = logLevel(source);
  const logFormat = resolveLogFormat(get('logFormat'), process.stdout.isTTY === true);
  if (logFormat === undefined) throw new SettingsError(`--log-format / NB_PROXY_LOG_FORMAT: "${get('logFormat')}" is not json or pretty`);
  const httpsRedirectPort = parseHttpsRedirectPort(withDefault('httpsRedirectPort'));
  if (httpsRedirectPort === undefined) {
    throw new SettingsError(
      `--https-redirect-port / NB_PROXY_HTTPS_REDIRECT_PORT: "${withDefault('httpsRedirectPort')}" is not auto or a port from 1 to 65535`,
    );
  }

  const proxyProtocolRaw = get('proxyProtocol');
  const proxyProtocol = proxyProtocolRaw === undefined ? false : parseBool(proxyProtocolRaw, 'proxyProtocol');

  const trustedRaw = get('trustedProxies');
  const trustedProxies =
    trustedRaw === undefined
      ? []
      : trustedRaw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');

  const crowdsec = crowdsecSettings(source, env);
  const acme = acmeSettings(source);
  const eventLogRaw = withDefault('eventLogSize');
  if (!/^\d+$/.test(eventLogRaw.trim()) || Number(eventLogRaw) > 1_000_000) {
    throw new SettingsError(`--event-log-size / NB_PROXY_EVENT_LOG_SIZE: "${eventLogRaw}" is not a whole number from 0 to 1000000`);
  }
  const { adminAddr, adminToken } = adminSettings(source);

  return {
    configPath: withDefault('config'),
    envFile: envFile.file,
    envFileVars: Object.keys(envFile.vars).filter((k) => k.startsWith('NB_PROXY_')).length,
    envFileReason: envFile.reason,
    httpAddr: hostPort(source, 'httpAddr'),
    httpsAddr: hostPort(source, 'httpsAddr'),
    httpsRedirectPort,
    adminAddr,
    crowdsec,
    appsec: resolveAppSecSettings(
      {
        url: get('appsecUrl'),
        apiKey: get('appsecApiKey') ?? get('crowdsecApiKey'),
        timeout: withDefault('appsecTimeout'),
        maxBody: withDefault('appsecMaxBody'),
        failureAction: withDefault('appsecFailureAction'),
        maxInflight: withDefault('appsecMaxInflight'),
      },
      (message) => new SettingsError(message),
    ),
    geoipDb: get('geoipDb'),
    trustedProxies,
    proxyProtocol,
    upstreamTimeoutMs: duration(source, 'upstreamTimeout'),
    headerTimeoutMs: duration(source, 'headerTimeout'),
    maxHeaderSize: byteCount(source, 'maxHeaderSize'),
    http2: parseBool(withDefault('http2'), 'http2'),
    http2MaxConcurrentStreams: streamLimit(withDefault('http2MaxConcurrentStreams')),
    shutdownGraceMs: duration(source, 'shutdownGrace'),
    logLevel: level,
    logFormat,
    accessLog: get('accessLog'),
    acme,
    eventLogSize: Number(eventLogRaw),
    adminToken,
    workers: workerCount(withDefault('workers')),
    denyTemplate: get('denyTemplate'),
    session: { secret: get('sessionSecret'), secretFile: get('sessionSecretFile') },
    challenge: resolveChallengeSettings(
      { powDifficulty: withDefault('challengePowDifficulty'), ttl: withDefault('challengeTtl'), verifyUrl: get('challengeVerifyUrl') },
      (m) => new SettingsError(m),
    ),
  };
}
