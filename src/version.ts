// The package version, read from the nearest package.json named "netbird-proxy" above this file,
// so it works from dist/ (dist/version.js) and from .build/ (.build/src/version.js) alike.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findVersion(start: string): string {
  let dir = start;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'netbird-proxy' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return '0.0.0-unknown';
    dir = parent;
  }
}

export const VERSION: string = findVersion(__dirname);
/** The remediation-component spec asks for crowdsec-<name>-bouncer/v<version>. */
export const USER_AGENT = `crowdsec-netbird-proxy-bouncer/v${VERSION}`;
