/**
 * `PendingDecisions` (adaptive's decisions waiting for feedback): at most `max` in all; when full, the oldest
 * decision of a tenant with the most waiting goes first (on a tie, the incoming call's own tenant's). Checked on
 * random skewed traffic against counts kept apart.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../learning/predictors/adam.js';
import { PendingDecisions } from './adaptive-pending.js';

interface P {
  tenant?: string;
}

describe('adaptive pending decisions', () => {
  it('never holds more than max; a tenant with the most waiting always gives way; counts stay exact', () => {
    const random = seededRandom(7);
    const pending = new PendingDecisions<P>();
    const tenants = ['a', 'b', 'c', undefined];
    const max = 12;
    const live = new Map<string, string | undefined>();
    for (let i = 0; i < 5000; i++) {
      const r = random();
      if (r < 0.7) {
        // Skewed traffic: "a" is busy.
        const tenant = random() < 0.6 ? 'a' : tenants[Math.floor(random() * tenants.length)];
        const before = new Map<string | undefined, number>();
        for (const t of live.values()) before.set(t, (before.get(t) ?? 0) + 1);
        const id = `r${i}`;
        pending.set(id, tenant === undefined ? {} : { tenant }, max);
        // Whoever lost a decision had the most waiting before this one came; the caller's tenant when it was one of them.
        const most = Math.max(...before.values());
        for (const [lost, t] of [...live]) {
          if (pending.get(lost) === undefined) {
            expect(before.get(t)).toBe(most);
            if (before.get(tenant) === most) expect(t).toBe(tenant);
            live.delete(lost);
          }
        }
        live.set(id, tenant);
      } else if (r < 0.95 && live.size > 0) {
        const ids = [...live.keys()];
        const id = ids[Math.floor(random() * ids.length)]!;
        pending.delete(id);
        live.delete(id);
      } else {
        pending.deleteTenant('a');
        for (const [id, t] of [...live]) if (t === 'a') live.delete(id);
      }
      expect(pending.size).toBe(live.size);
      expect(pending.size).toBeLessThanOrEqual(max);
      for (const id of live.keys()) expect(pending.get(id)).toBeDefined();
    }
  });

  it('on a tie for the most waiting, the calling tenant drops its own: a quiet tenant at its share keeps it', () => {
    const pending = new PendingDecisions<P>();
    const max = 4;
    pending.set('a1', { tenant: 'quiet' }, max);
    pending.set('a2', { tenant: 'quiet' }, max);
    pending.set('b1', { tenant: 'busy' }, max);
    pending.set('b2', { tenant: 'busy' }, max);
    // The busy tenant calls again (and again): 2 and 2 is a tie, and the quiet tenant reached 2 first.
    pending.set('b3', { tenant: 'busy' }, max);
    pending.set('b4', { tenant: 'busy' }, max);
    expect(['a1', 'a2', 'b1', 'b2', 'b3', 'b4'].map((id) => pending.get(id) !== undefined)).toEqual([true, true, false, false, true, true]);
  });

  it('a tenant that alone fills it drops its own oldest, one at a time, and a newcomer takes a place from it', () => {
    const pending = new PendingDecisions<P>();
    for (let i = 0; i < 5; i++) pending.set(`a${i}`, { tenant: 'a' }, 3);
    expect(['a0', 'a1', 'a2', 'a3', 'a4'].map((id) => pending.get(id) !== undefined)).toEqual([false, false, true, true, true]);
    pending.set('b0', { tenant: 'b' }, 3);
    expect(['a2', 'a3', 'a4', 'b0'].map((id) => pending.get(id) !== undefined)).toEqual([false, true, true, true]);
    // Setting an id again replaces it (no double count).
    pending.set('b0', { tenant: 'b' }, 3);
    expect(pending.size).toBe(3);
  });
});
