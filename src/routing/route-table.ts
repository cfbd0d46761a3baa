// Path → route: the longest configured prefix of the request path, else the service's default
// route. The path is matched as the upstream will read it: percent-escapes decoded, "." and ".."
// resolved and repeated slashes merged, so that "/%61dmin/" or "/x/../admin/" cannot reach an
// /admin/ route's upstream under another route's rules. Plain paths (the usual case) are matched
// as they are, without allocating.

export interface Routed {
  /** "" for the default route. */
  readonly path: string;
}

export class RouteTable<R extends Routed> {
  /** `routes` longest path first. */
  constructor(
    readonly routes: readonly R[],
    readonly fallback: R,
  ) {}

  match(url: string | undefined): R {
    const path = requestPath(url);
    for (const r of this.routes) if (path.startsWith(r.path)) return r;
    return this.fallback;
  }
}

/** The path of a request target (origin or absolute form), normalised when it needs to be. */
export function requestPath(url: string | undefined): string {
  if (url === undefined || url === '') return '/';
  let start = 0;
  if (url.charCodeAt(0) !== 47 /* / */) {
    // absolute-form: scheme://authority/path
    const scheme = url.indexOf('://');
    if (scheme < 0) return '/';
    const slash = url.indexOf('/', scheme + 3);
    if (slash < 0) return '/';
    start = slash;
  }
  let end = url.indexOf('?', start);
  const hash = url.indexOf('#', start);
  if (hash >= 0 && (end < 0 || hash < end)) end = hash;
  const path = start === 0 && end < 0 ? url : url.slice(start, end < 0 ? url.length : end);
  return needsNormalising(path) ? normalisePath(path) : path;
}

function needsNormalising(path: string): boolean {
  return path.includes('%') || path.includes('//') || path.includes('/.') || path.includes('\\');
}

export function normalisePath(path: string): string {
  const out: string[] = [];
  const parts = path.replace(/\\/g, '/').split('/');
  for (let i = 1; i < parts.length; i++) {
    let seg = parts[i] as string;
    try {
      seg = decodeURIComponent(seg);
    } catch {
      // a malformed escape stays as it is
    }
    if (seg.includes('/')) {
      // an encoded slash: its pieces count as segments for matching
      for (const piece of seg.split('/')) push(out, piece);
      continue;
    }
    push(out, seg);
  }
  const last = parts[parts.length - 1];
  const trailing = last === '' || last === '.' || last === '..';
  return `/${out.join('/')}${trailing && out.length > 0 ? '/' : ''}`;
}

function push(out: string[], seg: string): void {
  if (seg === '' || seg === '.') return;
  if (seg === '..') out.pop();
  else out.push(seg);
}
