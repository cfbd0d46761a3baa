// eslint-disable-next-line @typescript-eslint/no-require-imports
export const VERSION: string = (require('../package.json') as { version: string }).version;
export const USER_AGENT = `netbird-proxy/${VERSION}`;
