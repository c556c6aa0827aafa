/** What a `SlotSet` member carries: its slot while it is in the set. */
export interface Slotted {
  /** The member's index in its `SlotSet` (undefined while in none). */
  slot?: number | undefined;
}

/**
 * A set of objects added and deleted once each at a high rate (the router's calls in flight): a slot per member, kept on
 * the member, slots freed by `delete` reused. Not a `Set`: one that grows and shrinks with the calls keeps rehashing
 * into a new table, and V8 keeps each old table's entries and a link to its successor, so once a table has reached the
 * old generation, every member added after it (and whatever that member holds) lives past young-generation GCs until
 * the next full GC (measured: about 500 bytes promoted per JSON call through the gateway, docs/benchmarks.md). Here a
 * freed slot is cleared and the array only grows to the most members at once. A member is in one `SlotSet` at a time.
 */
export class SlotSet<T extends Slotted> {
  private readonly members: Array<T | undefined> = [];
  private readonly free: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `member` (nothing when it is in the set already). */
  add(member: T): void {
    if (member.slot !== undefined) return;
    const slot = this.free.length > 0 ? this.free.pop()! : this.members.length;
    this.members[slot] = member;
    member.slot = slot;
    this.count++;
  }

  /** Deletes `member`; false when it was not in the set. */
  delete(member: T): boolean {
    const slot = member.slot;
    if (slot === undefined || this.members[slot] !== member) return false;
    this.members[slot] = undefined;
    member.slot = undefined;
    this.free.push(slot);
    this.count--;
    return true;
  }

  /** The members, in slot order (a member deleted meanwhile is skipped, one added meanwhile may be visited). */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.members.length; i++) {
      const m = this.members[i];
      if (m !== undefined) yield m;
    }
  }
}
