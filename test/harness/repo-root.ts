import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The directory holding package.json above this file: test/harness/ as TypeScript, .build/test/harness/ compiled. */
export const REPO_ROOT = ((): string => {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
})();
