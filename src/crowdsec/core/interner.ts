// Reference-counted string interning for the decision store: types, origins and scenarios are
// kept once each and referred to by small integer ids from the Int32Array tables.

/** id ↔ string, with a reference count per id; an id whose count drops to 0 is recycled. */
export class Interner {
  private readonly ids = new Map<string, number>();
  /** The string of each id ('' for a free id). */
  readonly strs: string[] = [];
  private readonly refs: number[] = [];
  private readonly free: number[] = [];

  idOf(s: string): number | undefined {
    return this.ids.get(s);
  }

  /** Id of `s`, taking one reference; `onNew` is called when `s` gets a fresh id. */
  acquire(s: string, onNew?: (id: number, s: string) => void): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.free.length > 0 ? (this.free.pop() as number) : this.strs.length;
      this.strs[id] = s;
      this.refs[id] = 0;
      this.ids.set(s, id);
      if (onNew !== undefined) onNew(id, s);
    }
    this.refs[id]++;
    return id;
  }

  release(id: number): void {
    if (--this.refs[id] === 0) {
      this.ids.delete(this.strs[id]);
      this.strs[id] = '';
      this.free.push(id);
    }
  }

  /** Takes a reference on `s` and drops the one on `oldId`; returns the id of `s`. */
  swap(oldId: number, s: string): number {
    const id = this.acquire(s);
    this.release(oldId);
    return id;
  }

  /** Strings currently interned. */
  get size(): number {
    return this.ids.size;
  }
}
