// Admin UI sessions, held by the process: a random id per login, an absolute expiry, revoked by
// logout. The cookie carries only the id, so a copied cookie dies with its session; the store
// lives in memory, so a restart (and with it any change of --admin-token) revokes them all.
import { randomBytes } from 'node:crypto';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Past this many live sessions the oldest is revoked: a login loop cannot grow the map. */
export const MAX_SESSIONS = 256;

export interface Session {
  readonly id: string;
  readonly expiresAt: number;
}

export class SessionStore {
  // Insertion order is creation order: the first entry is the oldest.
  private readonly live = new Map<string, Session>();

  constructor(
    private readonly ttlMs = SESSION_TTL_MS,
    private readonly max = MAX_SESSIONS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.live.size;
  }

  create(): Session {
    const now = this.now();
    for (const [id, s] of this.live) if (s.expiresAt <= now) this.live.delete(id);
    while (this.live.size >= this.max) {
      const oldest = this.live.keys().next().value;
      if (oldest === undefined) break;
      this.live.delete(oldest);
    }
    const session = { id: randomBytes(32).toString('base64url'), expiresAt: now + this.ttlMs };
    this.live.set(session.id, session);
    return session;
  }

  /** The live session with this id; an expired one is removed and not returned. */
  get(id: string): Session | undefined {
    const s = this.live.get(id);
    if (s === undefined) return undefined;
    if (s.expiresAt <= this.now()) {
      this.live.delete(id);
      return undefined;
    }
    return s;
  }

  revoke(id: string): boolean {
    return this.live.delete(id);
  }

  revokeAll(): void {
    this.live.clear();
  }
}
