// Session ids that logged out (and OIDC states already used), kept until the token would have
// expired anyway. In memory: a restart forgets them (docs/auth.md).
export class RevocationStore {
  private readonly revoked = new Map<string, number>();

  constructor(private readonly maxEntries = 100_000) {}

  revoke(id: string, expiresMs: number, nowMs: number): void {
    if (this.revoked.size >= this.maxEntries) this.prune(nowMs);
    this.revoked.set(id, expiresMs);
  }

  has(id: string): boolean {
    return this.revoked.has(id);
  }

  private prune(nowMs: number): void {
    for (const [id, until] of this.revoked) if (until <= nowMs) this.revoked.delete(id);
    // Still full: the oldest revocations go (Map keeps insertion order).
    for (const id of this.revoked.keys()) {
      if (this.revoked.size < this.maxEntries) break;
      this.revoked.delete(id);
    }
  }
}
