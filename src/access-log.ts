// One pino line per HTTP request and per TCP connection, with "msg":"access".
import type { Logger } from 'pino';
import type { DenyReason } from './restrictions/types';

export interface AccessEntry {
  service: string;
  protocol: 'http' | 'tcp';
  client_ip: string;
  country?: string;
  method?: string;
  host?: string;
  path?: string;
  status?: number;
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
  deny_reason: DenyReason;
  metadata: Record<string, string>;
}

const NO_METADATA: Record<string, string> = Object.freeze({}) as Record<string, string>;

export function metadataOrEmpty(metadata: Record<string, string> | undefined): Record<string, string> {
  return metadata ?? NO_METADATA;
}

export function writeAccess(logger: Logger, entry: AccessEntry): void {
  logger.info(entry, 'access');
}

/** Milliseconds since `startNs` (from process.hrtime.bigint()), rounded to microseconds. */
export function elapsedMs(startNs: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - startNs) / 1000) / 1000;
}
