// The page's files, built into dist/admin/ui by `npm run build` and served from memory: the
// daemon needs nothing from the network, and a path can only name a file in this list.
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  type: string;
  body: Buffer;
}

export class UiAssets {
  private files: Map<string, Asset> | undefined;

  constructor(private readonly root: string = join(__dirname, 'ui')) {}

  /** By URL path below /ui/ (e.g. "app.css", "js/app.js"); undefined when there is no such file. */
  get(name: string): Asset | undefined {
    return this.load().get(name);
  }

  private load(): Map<string, Asset> {
    if (this.files !== undefined) return this.files;
    const files = new Map<string, Asset>();
    const walk = (dir: string, prefix: string): void => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) {
        const type = TYPES[extname(name)];
        if (type === undefined) {
          if (extname(name) === '') walk(join(dir, name), `${prefix}${name}/`);
          continue;
        }
        files.set(`${prefix}${name}`, { type, body: readFileSync(join(dir, name)) });
      }
    };
    walk(this.root, '');
    this.files = files;
    return files;
  }
}
