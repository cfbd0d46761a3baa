// The proxy's own icon (a 32×32 PNG "no entry" sign), for /favicon.ico on the admin listener and
// for a denied client's browser: its automatic GET /favicon.ico after the deny page is answered
// here, never forwarded and not logged as a second denial of the same visit.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const FAVICON = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAzklEQVR42s2XwQ3DIAxFuWcEzt2GLXr2CIzQ3ViBc4egRnLUqErd0BB/I71LlOR/GRvsEAbX7f6MTGKIyQLJsxiuWCLahQrTflDk3ThDeGEeB0S/0b9d/hXvIa0nxFf6P9KoOE0Q/oSQ4sdMSNjbxSQt4aqBgbqbmCezfbg69uq8GRO3BjLAQN4aKAADBRn+9zZopTdrqSWpHTwGBkhNQAMD2YUB+BbAkxBbhvCDyMtRjL2M4Nexi4YE3pK5aEpdtOUuBhMXo5mL4dRiPH8BPL0wAbtcU3IAAAAASUVORK5CYII=',
  'base64',
);

const HEADERS = { 'content-type': 'image/png', 'content-length': FAVICON.length, 'cache-control': 'public, max-age=86400' };

/** True for GET or HEAD /favicon.ico (with or without a query). */
export function isFaviconRequest(method: string | undefined, url: string | undefined): boolean {
  return (method === 'GET' || method === 'HEAD') && url !== undefined && (url === '/favicon.ico' || url.startsWith('/favicon.ico?'));
}

/** Answers the icon when the request asks for it; false (nothing written) otherwise. */
export function answerFavicon(req: IncomingMessage, res: ServerResponse): boolean {
  if (!isFaviconRequest(req.method, req.url)) return false;
  res.writeHead(200, HEADERS);
  res.end(req.method === 'HEAD' ? undefined : FAVICON);
  return true;
}
