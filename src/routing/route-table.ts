// Path → route: the longest configured prefix of the request path, else the service's default
// route. The path is matched as the upstream will read it: percent-escapes decoded, "." and ".."
// resolved and repeated slashes merged, so that "/%61dmin/" or "/x/../admin/" cannot reach an
// /admin/ route's upstream under another route's rules. Plain paths (the usual case) are matched
// as they are, without allocating.

export interface Routed {
  /** "" for the default route. */
  readonly path: string;
}

/** One character of route prefixes: the route ending here, and the next characters. */
interface TrieNode<R> {
  route: R | undefined;
  next: Map<number, TrieNode<R>> | undefined;
}

export class RouteTable<R extends Routed> {
  private readonly root: TrieNode<R> = { route: undefined, next: undefined };

  /** `routes` longest path first. */
  constructor(
    readonly routes: readonly R[],
    readonly fallback: R,
  ) {
    // A character trie of the prefixes: a lookup walks the path once, however many routes there are.
    for (const r of routes) {
      let node = this.root;
      for (let i = 0; i < r.path.length; i++) {
        const c = r.path.charCodeAt(i);
        node.next ??= new Map();
        let child = node.next.get(c);
        if (child === undefined) node.next.set(c, (child = { route: undefined, next: undefined }));
        node = child;
      }
      node.route = r;
    }
  }

  match(url: string | undefined): R {
    const path = requestPath(url);
    let best = this.fallback;
    let node: TrieNode<R> | undefined = this.root;
    for (let i = 0; node !== undefined; i++) {
      if (node.route !== undefined) best = node.route;
      if (i >= path.length || node.next === undefined) break;
      node = node.next.get(path.charCodeAt(i));
    }
    return best;
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
    // The path starts at the first "/" after the authority; a "?" or "#" first means it has none
    // ("http://h?q=/admin" is "/", not "/admin").
    let slash = scheme + 3;
    while (slash < url.length && !endsAuthority(url.charCodeAt(slash))) slash++;
    if (url.charCodeAt(slash) !== 47) return '/';
    start = slash;
  }
  let end = url.indexOf('?', start);
  const hash = url.indexOf('#', start);
  if (hash >= 0 && (end < 0 || hash < end)) end = hash;
  const path = start === 0 && end < 0 ? url : url.slice(start, end < 0 ? url.length : end);
  return needsNormalising(path) ? normalisePath(path) : path;
}

/** "/", "?" or "#". */
function endsAuthority(c: number): boolean {
  return c === 47 || c === 63 || c === 35;
}

function needsNormalising(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 37 /* % */ || c === 92 /* \\ */) return true;
    if (c === 47 /* / */) {
      const n = path.charCodeAt(i + 1);
      if (n === 47 || n === 46 /* . */) return true;
    }
  }
  return false;
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
