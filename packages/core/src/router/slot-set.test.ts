import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SlotSet, type Slotted } from './slot-set.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Member extends Slotted {
  id: number;
}

describe('SlotSet', () => {
  it('adds, deletes and counts members as a Set does; a second add or a delete of a non-member changes nothing', () => {
    const s = new SlotSet<Member>();
    const a: Member = { id: 1 };
    const b: Member = { id: 2 };
    s.add(a);
    s.add(b);
    s.add(a);
    expect(s.size).toBe(2);
    expect([...s].map((m) => m.id).sort()).toEqual([1, 2]);
    expect(s.delete(a)).toBe(true);
    expect(s.delete(a)).toBe(false);
    expect(s.delete({ id: 3 })).toBe(false);
    expect(s.size).toBe(1);
    expect([...s]).toEqual([b]);
    expect(a.slot).toBeUndefined();
  });

  it('reuses freed slots: the array grows only to the most members at once', () => {
    const s = new SlotSet<Member>();
    for (let round = 0; round < 100; round++) {
      const batch = Array.from({ length: 8 }, (_, i) => ({ id: round * 8 + i }) as Member);
      for (const m of batch) s.add(m);
      expect(Math.max(...batch.map((m) => m.slot!))).toBeLessThan(8);
      for (const m of batch) s.delete(m);
    }
    expect(s.size).toBe(0);
    expect([...s]).toEqual([]);
  });

  it('iterates the members left when members are deleted meanwhile (as close() aborts calls that settle at once)', () => {
    const s = new SlotSet<Member>();
    const all = Array.from({ length: 5 }, (_, id) => ({ id }) as Member);
    for (const m of all) s.add(m);
    const seen: number[] = [];
    for (const m of s) {
      seen.push(m.id);
      s.delete(m);
      if (m.id === 0) s.delete(all[3]!);
    }
    expect(seen).toEqual([0, 1, 2, 4]);
    expect(s.size).toBe(0);
  });

  it('holds no member once deleted', async () => {
    const s = new SlotSet<Member>();
    const keep: Member = { id: 0 };
    s.add(keep);
    const ref = (() => {
      const m: Member = { id: 1 };
      s.add(m);
      s.delete(m);
      return new WeakRef(m);
    })();
    for (let i = 0; i < 5 && ref.deref() !== undefined; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    expect(ref.deref()).toBeUndefined();
    expect([...s]).toEqual([keep]);
  });
});
