// `npm run demo` rebuilds only when dist/ is older than src/: the admin UI's files map to where
// the build really puts them (dist/admin/ui/js, dist/admin/ui), not to dist/admin/ui/src.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { distPathOf, staleDistFile } from '../../../scripts/stale-dist';

t.test('dist paths of src files', async (t) => {
  t.equal(distPathOf(join('daemon', 'daemon.ts')), join('daemon', 'daemon.js'));
  t.equal(distPathOf(join('admin', 'ui', 'src', 'app.ts')), join('admin', 'ui', 'js', 'app.js'));
  t.equal(distPathOf(join('admin', 'ui', 'static', 'app.css')), join('admin', 'ui', 'app.css'));
  t.equal(distPathOf(join('admin', 'ui', 'tsconfig.json')), undefined);
  t.equal(distPathOf(join('x', 'y.d.ts')), undefined);
});

t.test('a tree built as npm run build builds it is not stale', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'stale-dist-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const put = (p: string, when: number): void => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), '');
    utimesSync(join(root, p), when, when);
  };
  const src = 1_000_000;
  const built = src + 10;
  put('src/daemon/daemon.ts', src);
  put('src/admin/ui/src/app.ts', src);
  put('src/admin/ui/static/app.css', src);
  put('src/admin/ui/tsconfig.json', src);
  put('dist/daemon/daemon.js', built);
  put('dist/admin/ui/js/app.js', built);
  put('dist/admin/ui/app.css', built);
  t.equal(staleDistFile(root), undefined, 'nothing to rebuild');
  put('src/admin/ui/src/app.ts', built + 10);
  t.equal(staleDistFile(root), join(root, 'src/admin/ui/src/app.ts'), 'an edited UI file is seen');
});
