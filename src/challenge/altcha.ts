// ALTCHA proof of work on the server, with altcha-lib (MIT): challenges signed with a key derived
// from the proxy's secret (so that every worker and instance sharing it accepts them), and
// solutions checked for signature, expiry and work. altcha-lib's types are for ESM-aware
// resolution, which this project's "node" resolution does not read; its CommonJS build is loaded
// through its exports map and typed here with what is used.
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';

interface Parameters {
  algorithm: string;
  nonce: string;
  salt: string;
  cost: number;
  keyLength: number;
  keyPrefix: string;
  keySignature?: string;
  expiresAt?: number;
}

export interface AltchaChallenge {
  parameters: Parameters;
  signature?: string;
}

interface Solution {
  counter: number;
  derivedKey: string;
}

interface VerifyResult {
  expired: boolean;
  invalidSignature: boolean | null;
  invalidSolution: boolean | null;
  verified: boolean;
}

type DeriveKey = (...args: never[]) => Promise<unknown>;

interface AltchaLib {
  createChallenge(o: {
    algorithm: string;
    cost: number;
    counter: number;
    deriveKey: DeriveKey;
    expiresAt: number;
    hmacSignatureSecret: string;
    hmacKeySignatureSecret: string;
  }): Promise<AltchaChallenge>;
  verifySolution(o: {
    challenge: AltchaChallenge;
    solution: Solution;
    deriveKey: DeriveKey;
    hmacSignatureSecret: string;
    hmacKeySignatureSecret: string;
  }): Promise<VerifyResult>;
  randomInt(min: number, max: number): number;
}

const load = createRequire(__filename);
const lib = load('altcha-lib') as AltchaLib;
const { deriveKey } = load('altcha-lib/algorithms/pbkdf2') as { deriveKey: DeriveKey };

/** PBKDF2 with few iterations: the browser's WebCrypto does it natively in the widget's workers. */
const ALGORITHM = 'PBKDF2/SHA-256';
const COST = 10;
/** How long a browser has to solve a challenge and send the solution. */
export const CHALLENGE_TTL_MS = 5 * 60_000;

export interface PowKeys {
  signature: string;
  keySignature: string;
}

export function powKeys(secret: Buffer): PowKeys {
  const derive = (label: string): string => createHmac('sha256', secret).update(label).digest('hex');
  return { signature: derive('netbird-proxy altcha signature'), keySignature: derive('netbird-proxy altcha key signature') };
}

/** A new signed challenge: the counter to find is random between half the difficulty and all of it. */
export function newChallenge(keys: PowKeys, difficulty: number, nowMs: number): Promise<AltchaChallenge> {
  return lib.createChallenge({
    algorithm: ALGORITHM,
    cost: COST,
    counter: lib.randomInt(Math.ceil(difficulty / 2), difficulty),
    deriveKey,
    expiresAt: Math.floor((nowMs + CHALLENGE_TTL_MS) / 1000),
    hmacSignatureSecret: keys.signature,
    hmacKeySignatureSecret: keys.keySignature,
  });
}

export type PowCheck = { ok: true; replayKey: string; expiresMs: number } | { ok: false; why: string };

/** The widget's payload (base64 JSON {challenge, solution}) checked: well-formed, signed by us, unexpired, solved. */
export async function checkPayload(keys: PowKeys, payload: string | null): Promise<PowCheck> {
  if (payload === null || payload === '' || payload.length > 8192) return { ok: false, why: 'no solution' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
  } catch {
    return { ok: false, why: 'malformed solution' };
  }
  const p = parsed as { challenge?: AltchaChallenge; solution?: Solution } | null;
  const challenge = p?.challenge;
  const solution = p?.solution;
  if (typeof challenge !== 'object' || challenge === null || typeof challenge.parameters !== 'object' || challenge.parameters === null)
    return { ok: false, why: 'malformed solution' };
  if (typeof solution !== 'object' || solution === null || typeof challenge.signature !== 'string') return { ok: false, why: 'malformed solution' };
  let r: VerifyResult;
  try {
    r = await lib.verifySolution({ challenge, solution, deriveKey, hmacSignatureSecret: keys.signature, hmacKeySignatureSecret: keys.keySignature });
  } catch {
    return { ok: false, why: 'malformed solution' };
  }
  if (r.expired) return { ok: false, why: 'challenge expired' };
  if (r.invalidSignature === true) return { ok: false, why: 'forged challenge' };
  if (!r.verified) return { ok: false, why: 'wrong solution' };
  const expiresAt = challenge.parameters.expiresAt;
  return { ok: true, replayKey: challenge.signature, expiresMs: typeof expiresAt === 'number' ? expiresAt * 1000 : Date.now() + CHALLENGE_TTL_MS };
}
