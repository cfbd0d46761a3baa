// The ALTCHA widget (the `altcha` package, MIT), served from node_modules by the proxy itself: no
// CDN, the browser talks to this host only. Read once, at the first request for it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: Buffer | undefined;

/** The minified ES module build (styles and workers bundled); throws when the package is missing. */
export function widgetScript(): Buffer {
  // require.resolve('altcha') is dist/main/altcha.umd.cjs (its exports' "require"); the ES module lies next to it.
  cached ??= readFileSync(join(dirname(require.resolve('altcha')), 'altcha.min.js'));
  return cached;
}
