// The hint for a services.yaml that does not exist: which flag names it, and where the package's
// commented example is (next to dist/ in a clone and in the installed package alike).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const EXAMPLE_CONFIG = resolve(__dirname, '..', '..', 'config', 'services.yaml');

export function missingConfigReason(example: string = EXAMPLE_CONFIG): string {
  const copy = existsSync(example) ? `; a commented example of every field: ${example}` : '';
  return `cannot read the file (ENOENT): it does not exist: name your services file with --config <path> (or NB_PROXY_CONFIG)${copy}`;
}
