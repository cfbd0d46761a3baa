// The "os" of the usage metrics: distribution and version from /etc/os-release (what cscli shows for
// other bouncers, e.g. debian 12), else the kernel's name and release.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface OsInfo {
  name: string;
  version: string;
}

/** Values of ID and VERSION_ID in an os-release file's text; undefined when ID is missing. */
export function parseOsRelease(text: string): OsInfo | undefined {
  const field = (key: string): string | undefined => {
    const m = new RegExp(`^${key}=(.*)$`, 'm').exec(text);
    return m === null ? undefined : m[1].trim().replace(/^(["'])(.*)\1$/, '$2');
  };
  const name = field('ID');
  if (name === undefined || name === '') return undefined;
  return { name, version: field('VERSION_ID') ?? '' };
}

export function detectOs(): OsInfo {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      const info = parseOsRelease(readFileSync(path, 'utf8'));
      if (info !== undefined) return { name: info.name.slice(0, 255), version: (info.version || os.release()).slice(0, 255) };
    } catch {
      // not there (not Linux, or a minimal image): try the next
    }
  }
  return { name: os.type().toLowerCase(), version: os.release() };
}
