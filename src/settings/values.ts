// One setting's text → a typed value, or a SettingsError naming the flag and its env var.
import { availableParallelism } from 'node:os';
import { parseHostPort } from '../config/load';
import type { HostPort } from '../config/types';
import { parseGoDuration } from '../util/duration';
import { flagName, specOf, type SettingKey } from './options';
import type { Source } from './sources';
import { SettingsError } from './types';

/** `--http-addr / NB_PROXY_HTTP_ADDR`, the prefix of every message about a setting. */
export function where(key: SettingKey): string {
  return `${flagName(key)} / ${specOf(key).env}`;
}

export function hostPort(source: Source, key: SettingKey): HostPort {
  const value = source.withDefault(key);
  const hp = parseHostPort(value);
  if (!hp) throw new SettingsError(`${where(key)}: "${value}" is not host:port`);
  return hp;
}

/** A positive Go duration, in ms. */
export function duration(source: Source, key: SettingKey): number {
  const value = source.withDefault(key);
  let ms: number;
  try {
    ms = parseGoDuration(value);
  } catch {
    throw new SettingsError(`${where(key)}: "${value}" is not a duration such as 500ms, 10s or 1m30s`);
  }
  if (!(ms > 0)) throw new SettingsError(`${where(key)}: "${value}" must be positive`);
  return ms;
}

export function byteCount(source: Source, key: SettingKey): number {
  const value = source.withDefault(key);
  if (!/^[1-9][0-9]{0,9}$/.test(value)) throw new SettingsError(`${where(key)}: "${value}" is not a number of bytes such as 16384`);
  return Number(value);
}

export function parseBool(value: string, key: SettingKey): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes' || v === 'on') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === 'off') return false;
  throw new SettingsError(`${where(key)}: "${value}" is not true or false`);
}

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export function logLevel(source: Source): string {
  const level = source.withDefault('logLevel').toLowerCase();
  if (!LOG_LEVELS.has(level)) throw new SettingsError(`--log-level / NB_PROXY_LOG_LEVEL: "${level}" is not one of ${[...LOG_LEVELS].join(', ')}`);
  return level;
}

export function streamLimit(value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 1000) {
    throw new SettingsError(`--http2-max-concurrent-streams / NB_PROXY_HTTP2_MAX_CONCURRENT_STREAMS: "${value}" is not a whole number from 1 to 1000`);
  }
  return n;
}

/** --workers: a whole number from 1 to 64, or auto (os.availableParallelism()). */
export function workerCount(raw: string): number {
  const v = raw.trim().toLowerCase();
  if (v === 'auto') return Math.max(1, Math.min(64, availableParallelism()));
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) {
    throw new SettingsError(`--workers / NB_PROXY_WORKERS: "${raw}" is not auto or a whole number from 1 to 64`);
  }
  return Number(v);
}

/** 127.0.0.0/8, ::1 and localhost: the addresses only this machine can reach. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
