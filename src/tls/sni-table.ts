// Which certificate answers a TLS server name: the exact name first, then "*." + its parent.
/** Lower-case, without a trailing dot. */
export function normalizeServerName(name: string): string {
  const s = name.toLowerCase();
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

export class SniTable<T> {
  private readonly byName = new Map<string, T>();

  set(name: string, entry: T): void {
    this.byName.set(name, entry);
  }

  delete(name: string): void {
    this.byName.delete(name);
  }

  get(name: string): T | undefined {
    return this.byName.get(name);
  }

  /** The entry for a client's server name: exact match, else the wildcard one label up. */
  lookup(serverName: string): T | undefined {
    const name = normalizeServerName(serverName);
    const exact = this.byName.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.byName.get(`*.${name.slice(dot + 1)}`) : undefined;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
