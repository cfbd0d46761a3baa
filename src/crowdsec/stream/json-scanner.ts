// Byte-level scanning of one JSON value that may arrive split across chunks: finds where the value ends
// (string/escape state and bracket depth carried between calls) without decoding it; JSON.parse judges
// the span afterwards. Used by the decision stream parser for keys, list elements and other values.

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const LBRACE = 0x7b;
export const RBRACE = 0x7d;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;

export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export class ValueScanner {
  /** Start of the value being scanned (index in the caller's buffer), or -1; the caller shifts it when it trims the buffer. */
  mark = -1;
  private depth = 0;
  private inStr = false;
  private esc = false;
  /** false: container or string; true: scalar (ends at a delimiter). */
  private scalar = false;

  /** Starts scanning a value whose first byte is b[i]. */
  begin(b: Buffer, i: number): void {
    const c = b[i];
    this.mark = i;
    this.inStr = false;
    this.esc = false;
    this.scalar = false;
    if (c === LBRACE || c === LBRACKET) {
      this.depth = 1;
    } else if (c === QUOTE) {
      this.depth = 0;
      this.inStr = true;
    } else {
      this.depth = 0;
      this.scalar = true;
    }
  }

  /**
   * Continues the value started at `mark` from b[i]; returns the index just past its end, or -1 if it
   * runs past the buffer. A scalar ends before the first whitespace, ',', ']' or '}' (JSON.parse judges it).
   */
  scan(b: Buffer, i: number): number {
    const n = b.length;
    if (this.scalar) {
      for (; i < n; i++) {
        const c = b[i];
        if (c === COMMA || c === RBRACKET || c === RBRACE || isWs(c)) return i;
      }
      return -1;
    }
    let depth = this.depth;
    let inStr = this.inStr;
    let esc = this.esc;
    for (; i < n; i++) {
      const c = b[i];
      if (inStr) {
        if (esc) esc = false;
        else if (c === BACKSLASH) esc = true;
        else if (c === QUOTE) {
          inStr = false;
          if (depth === 0) {
            this.inStr = false;
            this.esc = false;
            return i + 1;
          }
        }
      } else if (c === QUOTE) {
        inStr = true;
      } else if (c === LBRACE || c === LBRACKET) {
        depth++;
      } else if (c === RBRACE || c === RBRACKET) {
        if (--depth === 0) {
          this.depth = 0;
          this.inStr = false;
          this.esc = false;
          return i + 1;
        }
      }
    }
    this.depth = depth;
    this.inStr = inStr;
    this.esc = esc;
    return -1;
  }
}
