// A GET whose request target goes on the wire exactly as given (no URL parsing, so no
// percent-encoding of <, >, "), to see how the proxy and the admin UI treat hostile paths.
import http from 'node:http';

export function rawGet(port: number, host: string, path: string, from = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, localAddress: from, agent: false, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}
