// The result of a decision store lookup.
import { formatPrefixKey } from '../../net/ip';
import type { ActiveDecision } from './types';

/**
 * A lookup result. `value` is formatted on first access (most callers only read `type`), from a
 * copy of the key taken at lookup time; toJSON() gives a plain object for logs.
 */
export class Hit implements ActiveDecision {
  private text: string | undefined;
  /**
   * `meta` is the matched table's tag (family | prefix length << 8) and k0..k3 its key words;
   * `text`, when given, is the value already formatted (an exact IPv4 address as looked up).
   */
  constructor(
    readonly type: string,
    readonly origin: string,
    readonly scenario: string,
    readonly expiresAt: number,
    text: string | undefined,
    private readonly meta: number,
    private readonly k0: number,
    private readonly k1: number,
    private readonly k2: number,
    private readonly k3: number,
  ) {
    this.text = text;
  }

  get value(): string {
    if (this.text === undefined) {
      const fam = (this.meta & 0xff) as 4 | 6;
      this.text = formatPrefixKey(fam, this.meta >>> 8, fam === 4 ? this.k0 : [this.k0, this.k1, this.k2, this.k3], true);
    }
    return this.text;
  }

  toJSON(): ActiveDecision {
    return { type: this.type, origin: this.origin, scenario: this.scenario, value: this.value, expiresAt: this.expiresAt };
  }
}
