// Incremental parser for the /v1/decisions/stream body, fed Buffer chunks as they arrive.
//
// The body is {"deleted": [ {...}, ... ] | null, "new": [ {...}, ... ] | null} (either key order, other
// top-level keys validated and ignored, whitespace anywhere). The parser walks the structure byte by byte
// (json-scanner.ts carries string/escape state and bracket depth across chunks); the elements of "new" and "deleted" are not decoded one by one by
// hand: each run of complete elements inside a chunk is handed to JSON.parse as one small array, so the
// whole body string and the whole object graph never exist at once. Only the unfinished tail of a chunk
// (part of one element, usually a few hundred bytes) is kept until the next one.
//
// Order: the store must apply "deleted" before "new" within one response. When "new" comes first in the
// body (LAPI 1.4.6 sorts its keys, so "deleted" comes first and this never happens there), its batches are
// held back and returned by end() for the caller to apply after the deletions.
//
// (~375 lines: one hand-written state machine over the top-level object, kept in one place so every
// transition can be read together; the value scanner is json-scanner.ts, the collecting sink collect-stream.ts.)
import type { LapiDecision } from '../core/types';
import { COLON, COMMA, isWs, LBRACKET, LBRACE, QUOTE, RBRACE, RBRACKET, ValueScanner } from './json-scanner';

/** What the parser hands the decisions to, in batches, in body order (deletions before new ones). */
export interface DecisionSink {
  onDeleted(batch: LapiDecision[]): void;
  onNew(batch: LapiDecision[]): void;
  /** A promise while the consumer is behind: the body is not read further until it settles. */
  backpressure?(): Promise<void> | undefined;
}

export type StreamParseErrorKind = 'malformed' | 'empty' | 'shape' | 'not-object';

/** A body that is not a usable stream response; lapi-client turns it into a LapiError('malformed'). */
export class StreamParseError extends Error {
  readonly kind: StreamParseErrorKind;
  constructor(kind: StreamParseErrorKind, message: string) {
    super(message);
    this.name = 'StreamParseError';
    this.kind = kind;
  }
}

export interface StreamSummary {
  /** Elements in "new" / "deleted" (unusable ones included: the store skips and counts those). */
  newCount: number;
  deletedCount: number;
  /** How each list appeared: absent, null, or a list. */
  newForm: 'absent' | 'null' | 'list';
  deletedForm: 'absent' | 'null' | 'list';
  /** Batches of "new" held back because "new" came before "deleted" in the body; apply them now, in order. */
  deferredNew: LapiDecision[][];
  bytes: number;
}

/** Elements per batch handed to the sink (and per JSON.parse call). */
export const BATCH_ELEMENTS = 1024;

// Top-level states.
const S_START = 0; // before '{'
const S_OBJ_OPEN = 1; // after '{': '}' or a key
const S_KEY = 2; // inside a key string
const S_COLON = 3; // after a key
const S_VALUE = 4; // after ':'
const S_MEMBER_VALUE = 5; // inside a value of a member that is not a list we stream
const S_AFTER_MEMBER = 6; // after a member: ',' or '}'
const S_OBJ_KEY = 7; // after ',': a key
const S_ARR_FIRST = 8; // after '[': ']' or an element
const S_ELEM = 9; // inside an element
const S_ARR_AFTER = 10; // after an element: ',' or ']'
const S_ARR_NEXT = 11; // after ',' in a list: an element
const S_DONE = 12; // after the closing '}'
const S_PASSTHROUGH = 13; // the body is not an object: buffered and judged whole at the end

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

type Field = 'new' | 'deleted';

export class StreamBodyParser {
  private readonly sink: DecisionSink;
  private state = S_START;
  /** Unconsumed bytes: the tail of earlier chunks (from `mark`) followed by the current chunk. */
  private buf: Buffer = Buffer.alloc(0);
  /** Absolute offset (in the body) of buf[0]. */
  private base = 0;
  private bytes = 0;

  /** Scans keys, elements and other members' values; its `mark` is the start of the one in progress. */
  private readonly value = new ValueScanner();

  // Current member.
  private key = '';
  private field: Field | undefined;
  private seen = new Set<string>();
  /** Start (in buf) of the first element not yet handed on, or -1; end of the last complete one. */
  private batchStart = -1;
  private batchEnd = -1;
  private batchCount = 0;

  private newCount = 0;
  private deletedCount = 0;
  private newForm: 'absent' | 'null' | 'list' = 'absent';
  private deletedForm: 'absent' | 'null' | 'list' = 'absent';
  private deletedDone = false;
  private deferred: LapiDecision[][] = [];
  private passthrough: Buffer[] = [];

  constructor(sink: DecisionSink) {
    this.sink = sink;
  }

  /** Feeds one chunk; hands complete elements on. Throws StreamParseError on malformed input. */
  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.state === S_PASSTHROUGH) {
      this.passthrough.push(chunk);
      return;
    }
    let from: number;
    if (this.buf.length === 0) {
      this.buf = chunk;
      from = 0;
    } else {
      from = this.buf.length;
      this.buf = Buffer.concat([this.buf, chunk]);
    }
    this.scan(from);
    if (this.state === S_PASSTHROUGH) return;
    if (this.field !== undefined && this.batchStart >= 0 && this.batchCount > 0) this.flush();
    // Keep only what is still needed: the token in progress (or the pending batch start).
    let keep = this.buf.length;
    if (this.value.mark >= 0) keep = this.value.mark;
    if (this.batchStart >= 0 && this.batchStart < keep) keep = this.batchStart;
    if (keep > 0) {
      const rest = this.buf.length - keep;
      this.buf = rest === 0 ? Buffer.alloc(0) : Buffer.from(this.buf.subarray(keep)); // copy: free the chunk
      this.base += keep;
      if (this.value.mark >= 0) this.value.mark -= keep;
      if (this.batchStart >= 0) this.batchStart -= keep;
      if (this.batchEnd >= 0) this.batchEnd -= keep;
    }
  }

  /** The body is complete: checks it ended where it should. */
  end(): StreamSummary {
    if (this.state === S_PASSTHROUGH) {
      const whole = Buffer.concat(this.passthrough);
      this.passthrough = [];
      let parsed: unknown;
      try {
        parsed = JSON.parse(whole.toString('utf8'));
      } catch (err) {
        throw this.malformedText((err as Error).message);
      }
      throw new StreamParseError('not-object', `CrowdSec LAPI response is not a {"new", "deleted"} object but ${describe(parsed)}`);
    }
    if (this.state !== S_DONE) {
      if (this.bytes === 0) throw new StreamParseError('empty', 'CrowdSec LAPI sent an empty body');
      throw this.malformedText('Unexpected end of JSON input');
    }
    const deferredNew = this.deferred;
    this.deferred = [];
    return {
      newCount: this.newCount,
      deletedCount: this.deletedCount,
      newForm: this.newForm,
      deletedForm: this.deletedForm,
      deferredNew,
      bytes: this.bytes,
    };
  }

  private malformedText(what: string): StreamParseError {
    return new StreamParseError('malformed', `CrowdSec LAPI sent malformed JSON (${this.bytes} bytes: ${what})`);
  }

  private unexpected(i: number): StreamParseError {
    const c = this.buf[i];
    const shown = c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
    return this.malformedText(`unexpected ${shown} at position ${this.base + i}`);
  }

  /** Parses buf[start, end) as JSON; malformed text becomes a StreamParseError. */
  private parseSpan(start: number, end: number, wrap: boolean): unknown {
    const text = this.buf.toString('utf8', start, end);
    try {
      return JSON.parse(wrap ? `[${text}]` : text);
    } catch (err) {
      throw this.malformedText(`${(err as Error).message} in the value at position ${this.base + start}`);
    }
  }

  /** Hands the complete elements seen so far in the current list on. */
  private flush(): void {
    const batch = this.parseSpan(this.batchStart, this.batchEnd, true) as LapiDecision[];
    // An element in progress opens the next batch.
    this.batchStart = this.state === S_ELEM ? this.value.mark : -1;
    this.batchEnd = -1;
    this.batchCount = 0;
    if (this.field === 'deleted') {
      this.deletedCount += batch.length;
      this.sink.onDeleted(batch);
    } else {
      this.newCount += batch.length;
      if (this.deletedDone) this.sink.onNew(batch);
      else this.deferred.push(batch);
    }
  }

  private scan(from: number): void {
    const b = this.buf;
    const n = b.length;
    let i = from;
    while (i < n) {
      switch (this.state) {
        case S_START: {
          const c = b[i];
          if (isWs(c)) {
            i++;
          } else if (c === LBRACE) {
            this.state = S_OBJ_OPEN;
            i++;
          } else {
            // Not an object: keep everything and let JSON.parse name what it is (or what is wrong).
            this.state = S_PASSTHROUGH;
            this.passthrough.push(Buffer.from(b.subarray(i)));
            this.buf = Buffer.alloc(0);
            return;
          }
          break;
        }
        case S_OBJ_OPEN:
        case S_OBJ_KEY: {
          const c = b[i];
          if (isWs(c)) {
            i++;
          } else if (c === QUOTE) {
            this.value.begin(this.buf, i);
            this.state = S_KEY;
            i++;
          } else if (c === RBRACE && this.state === S_OBJ_OPEN) {
            this.state = S_DONE;
            i++;
          } else {
            throw this.unexpected(i);
          }
          break;
        }
        case S_KEY: {
          const end = this.value.scan(this.buf, i);
          if (end < 0) return;
          this.key = this.parseSpan(this.value.mark, end, false) as string;
          this.value.mark = -1;
          this.state = S_COLON;
          i = end;
          break;
        }
        case S_COLON: {
          const c = b[i];
          if (isWs(c)) i++;
          else if (c === COLON) {
            this.state = S_VALUE;
            i++;
          } else throw this.unexpected(i);
          break;
        }
        case S_VALUE: {
          const c = b[i];
          if (isWs(c)) {
            i++;
            break;
          }
          if (c === COMMA || c === RBRACE || c === RBRACKET || c === COLON) throw this.unexpected(i);
          const key = this.key;
          if ((key === 'new' || key === 'deleted') && c === LBRACKET) {
            if (this.seen.has(key)) throw new StreamParseError('shape', `CrowdSec LAPI response has field "${key}" twice`);
            this.seen.add(key);
            this.field = key;
            if (key === 'new') this.newForm = 'list';
            else this.deletedForm = 'list';
            this.state = S_ARR_FIRST;
            i++;
          } else {
            this.value.begin(this.buf, i);
            this.state = S_MEMBER_VALUE;
            i++;
          }
          break;
        }
        case S_MEMBER_VALUE: {
          const end = this.value.scan(this.buf, i);
          if (end < 0) return;
          const v = this.parseSpan(this.value.mark, end, false);
          this.value.mark = -1;
          const key = this.key;
          if (key === 'new' || key === 'deleted') {
            if (v !== null) {
              throw new StreamParseError('shape', `CrowdSec LAPI response field "${key}" is ${describe(v)}, expected a list or null`);
            }
            if (this.seen.has(key)) throw new StreamParseError('shape', `CrowdSec LAPI response has field "${key}" twice`);
            this.seen.add(key);
            if (key === 'new') this.newForm = 'null';
            else {
              this.deletedForm = 'null';
              this.deletedDone = true;
            }
          }
          this.state = S_AFTER_MEMBER;
          i = end;
          break;
        }
        case S_AFTER_MEMBER: {
          const c = b[i];
          if (isWs(c)) i++;
          else if (c === COMMA) {
            this.state = S_OBJ_KEY;
            i++;
          } else if (c === RBRACE) {
            this.state = S_DONE;
            this.deletedDone = true;
            i++;
          } else throw this.unexpected(i);
          break;
        }
        case S_ARR_FIRST:
        case S_ARR_NEXT: {
          const c = b[i];
          if (isWs(c)) {
            i++;
          } else if (c === RBRACKET && this.state === S_ARR_FIRST) {
            this.endList();
            i++;
          } else if (c === COMMA || c === RBRACKET || c === RBRACE || c === COLON) {
            throw this.unexpected(i);
          } else {
            this.value.begin(this.buf, i);
            if (this.batchStart < 0) this.batchStart = i;
            this.state = S_ELEM;
            i++;
          }
          break;
        }
        case S_ELEM: {
          const end = this.value.scan(this.buf, i);
          if (end < 0) return;
          this.value.mark = -1;
          this.batchEnd = end;
          this.state = S_ARR_AFTER;
          i = end;
          if (++this.batchCount >= BATCH_ELEMENTS) this.flush();
          break;
        }
        case S_ARR_AFTER: {
          const c = b[i];
          if (isWs(c)) i++;
          else if (c === COMMA) {
            this.state = S_ARR_NEXT;
            i++;
          } else if (c === RBRACKET) {
            this.endList();
            i++;
          } else throw this.unexpected(i);
          break;
        }
        case S_DONE: {
          if (isWs(b[i])) i++;
          else throw this.unexpected(i);
          break;
        }
        default:
          return;
      }
    }
  }

  private endList(): void {
    if (this.batchCount > 0) this.flush();
    this.batchStart = -1;
    this.batchEnd = -1;
    if (this.field === 'deleted') this.deletedDone = true;
    this.field = undefined;
    this.state = S_AFTER_MEMBER;
  }
}
