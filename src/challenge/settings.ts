// The --challenge-* flags, validated. Pure.
import { parseGoDuration } from '../util/duration';

export interface ChallengeSettings {
  /** pow: the largest counter a browser may have to reach (the work is random between half and all of it). */
  powDifficulty: number;
  /** How long a solved challenge's pass cookie is good for. */
  ttlMs: number;
  /** Provider modes: the siteverify URL for every provider instead of each provider's own (tests). */
  verifyUrl: URL | undefined;
}

export interface ChallengeRawSettings {
  powDifficulty: string;
  ttl: string;
  verifyUrl: string | undefined;
}

export const MIN_POW_DIFFICULTY = 10;
export const MAX_POW_DIFFICULTY = 10_000_000;

export function resolveChallengeSettings(raw: ChallengeRawSettings, fail: (message: string) => Error): ChallengeSettings {
  const d = raw.powDifficulty.trim();
  if (!/^\d{1,8}$/.test(d) || Number(d) < MIN_POW_DIFFICULTY || Number(d) > MAX_POW_DIFFICULTY) {
    throw fail(`--challenge-pow-difficulty / NB_PROXY_CHALLENGE_POW_DIFFICULTY: "${raw.powDifficulty}" is not a whole number from 10 to 10000000`);
  }
  let ttlMs: number;
  try {
    ttlMs = parseGoDuration(raw.ttl);
  } catch {
    throw fail(`--challenge-ttl / NB_PROXY_CHALLENGE_TTL: "${raw.ttl}" is not a duration such as 30m or 2h`);
  }
  if (!(ttlMs >= 60_000 && ttlMs <= 7 * 24 * 3_600_000)) throw fail(`--challenge-ttl / NB_PROXY_CHALLENGE_TTL: "${raw.ttl}" must be from 1m to 168h`);
  let verifyUrl: URL | undefined;
  if (raw.verifyUrl !== undefined) {
    try {
      verifyUrl = new URL(raw.verifyUrl);
    } catch {
      throw fail(`--challenge-verify-url / NB_PROXY_CHALLENGE_VERIFY_URL: "${raw.verifyUrl}" is not a URL`);
    }
    if (verifyUrl.protocol !== 'http:' && verifyUrl.protocol !== 'https:')
      throw fail(`--challenge-verify-url / NB_PROXY_CHALLENGE_VERIFY_URL: "${raw.verifyUrl}" must be http:// or https://`);
  }
  return { powDifficulty: Number(d), ttlMs, verifyUrl };
}
