// Where `npm run build` puts each compiled or copied file, so that `npm run demo` rebuilds only
// when dist/ is really older than src/. The admin UI has its own tsconfig (src/admin/ui/src →
// dist/admin/ui/js) and its static files are copied (src/admin/ui/static → dist/admin/ui).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const UI_SRC = ['admin', 'ui', 'src'].join(sep) + sep;
const UI_STATIC = ['admin', 'ui', 'static'].join(sep) + sep;

/** The dist/ path of a file under src/ (relative to src/), or undefined when the build does not produce one. */
export function distPathOf(relSrc: string): string | undefined {
  if (relSrc.startsWith(UI_STATIC)) return join('admin', 'ui', relSrc.slice(UI_STATIC.length));
  if (!relSrc.endsWith('.ts') || relSrc.endsWith('.d.ts')) return undefined;
  if (relSrc.startsWith(UI_SRC)) return join('admin', 'ui', 'js', relSrc.slice(UI_SRC.length).replace(/\.ts$/, '.js'));
  return relSrc.replace(/\.ts$/, '.js');
}

function walk(dir: string): string[] {
  const files: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) files.push(...walk(p));
    else files.push(p);
  }
  return files;
}

/** The first file under root/src whose dist/ counterpart is missing or older, if any. */
export function staleDistFile(root: string): string | undefined {
  const src = join(root, 'src');
  const dist = join(root, 'dist');
  for (const f of walk(src)) {
    const out = distPathOf(relative(src, f));
    if (out === undefined) continue;
    const built = join(dist, out);
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(f).mtimeMs) return f;
  }
  return undefined;
}
