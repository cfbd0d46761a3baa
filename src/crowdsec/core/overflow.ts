// Overflow records of the decision store: the second and further (value, type) entries of a value,
// chained from its bucket. Fixed 32-byte records in one growable ArrayBuffer, seen through an
// Int32Array and a Float64Array; freed records are recycled through a free list.

/** "No record": the end of a chain or of the free list. */
export const NIL = -1;

// Record: 8 int32 = 4 float64 = 32 bytes: [exp lo, exp hi, type, origin, scenario, next, -, -].
const I32 = 8;
const F64 = 4;
const TYPE = 2;
const ORIGIN = 3;
const SCENARIO = 4;
const NEXT = 5;
const MIN_CAP = 64;

export class OverflowRecords {
  private cap = 0;
  private hi = 0;
  private freeHead = NIL;
  private buf = new ArrayBuffer(0);
  private f64 = new Float64Array(this.buf);
  private i32 = new Int32Array(this.buf);

  /** Bytes held by the record buffer. */
  get bytes(): number {
    return this.buf.byteLength;
  }

  expiresAt(r: number): number {
    return this.f64[r * F64];
  }

  type(r: number): number {
    return this.i32[r * I32 + TYPE];
  }

  origin(r: number): number {
    return this.i32[r * I32 + ORIGIN];
  }

  scenario(r: number): number {
    return this.i32[r * I32 + SCENARIO];
  }

  /** The record after `r` in its chain, or NIL. */
  next(r: number): number {
    return this.i32[r * I32 + NEXT];
  }

  setExpiresAt(r: number, ms: number): void {
    this.f64[r * F64] = ms;
  }

  setOrigin(r: number, id: number): void {
    this.i32[r * I32 + ORIGIN] = id;
  }

  setScenario(r: number, id: number): void {
    this.i32[r * I32 + SCENARIO] = id;
  }

  setNext(r: number, next: number): void {
    this.i32[r * I32 + NEXT] = next;
  }

  /** A new record holding these fields, from the free list or the end of the buffer (doubled when full). */
  alloc(expiresAt: number, type: number, origin: number, scenario: number, next: number): number {
    let r: number;
    if (this.freeHead !== NIL) {
      r = this.freeHead;
      this.freeHead = this.next(r);
    } else {
      if (this.hi === this.cap) this.grow(Math.max(MIN_CAP, this.cap * 2));
      r = this.hi++;
    }
    const o = r * I32;
    this.f64[r * F64] = expiresAt;
    this.i32[o + TYPE] = type;
    this.i32[o + ORIGIN] = origin;
    this.i32[o + SCENARIO] = scenario;
    this.i32[o + NEXT] = next;
    return r;
  }

  /** Returns `r` to the free list; the string ids it holds are the caller's to release (or keep). */
  free(r: number): void {
    this.setNext(r, this.freeHead);
    this.freeHead = r;
  }

  /** Drops every record and the buffer. */
  clear(): void {
    this.cap = 0;
    this.hi = 0;
    this.freeHead = NIL;
    this.setBuffer(new ArrayBuffer(0));
  }

  private grow(cap: number): void {
    const buf = new ArrayBuffer(cap * I32 * 4);
    new Uint8Array(buf).set(new Uint8Array(this.buf));
    this.setBuffer(buf);
    this.cap = cap;
  }

  private setBuffer(buf: ArrayBuffer): void {
    this.buf = buf;
    this.f64 = new Float64Array(buf);
    this.i32 = new Int32Array(buf);
  }
}
