/**
 * The auth-failure audit's timer and its rows per window (windows on a monotonic clock). Real clocks, real timers,
 * memory stores.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStateStores } from '../stores/create-state-stores.js';
import type { StateStores } from '../stores/types.js';
import { AuthFailureAudit } from './auth-failure-audit.js';

describe('AuthFailureAudit timer and rows per window', () => {
  let stores: StateStores;
  beforeEach(async () => {
    stores = await createStateStores({ mode: 'memory' });
  });
  afterEach(() => stores.close());

  // The window that starts the timer: the timer is set at the first record() of a source, so its first tick should
  // end that source's window and write its repeats. The timer is scheduled on the event loop's clock (whole ms, read
  // at the start of the loop turn), the window on performance.now() (fractional, read later): the first tick can come
  // a fraction of a ms before the window's end, and the repeats would then wait for the next tick (a whole window
  // more): the timer runs a millisecond past the window.
  it("the first tick after a source's first failure writes its repeats (not a window later)", { timeout: 30_000 }, async () => {
    const windowMs = 40;
    const trials = 25;
    const late: number[] = [];
    for (let t = 0; t < trials; t++) {
      const readings: number[] = [];
      const a = new AuthFailureAudit(stores.audit, { windowMs, monotonicClock: () => performance.now() });
      let ticks = 0;
      let firstTickMono = Number.NaN;
      const flush = a.flush.bind(a);
      a.flush = async (all?: boolean) => {
        if (!all && ticks++ === 0) firstTickMono = performance.now();
        return flush(all);
      };
      // Late in a millisecond of the event loop's clock, as any request may be.
      while (process.hrtime.bigint() % 1_000_000n < 800_000n);
      const ip = `10.9.${t}.1`;
      readings.push(performance.now());
      await a.record({ reason: 'unknown_key', ip });
      await a.record({ reason: 'unknown_key', ip });
      await vi.waitFor(() => expect(ticks).toBeGreaterThanOrEqual(1), { timeout: 10_000, interval: 5 });
      // Let the first tick's append settle.
      await new Promise((r) => setImmediate(r));
      const rows = await stores.audit.list({ action: 'auth.failure', limit: 1000 });
      const written = rows.some((r) => r.ip === ip && r.details?.repeated === true);
      if (!written) late.push(firstTickMono - readings[0]!);
      await a.close();
    }
    // Every source's repeats written at the timer's first tick; `late` holds how long after the first failure (ms,
    // monotonic) each tick that wrote nothing came.
    expect(late).toEqual([]);
  });

  // The sources' windows start at their first failure, not with the cap's window, so the counted rows of the previous
  // window's late sources and of this window's early ones both land in one window (docs/core/tenancy.md says so).
  it('a window of the cap writes at most 3 x maxRowsPerWindow + 1 rows (2 x + 1 on average): the last window\'s late sources\' counts land beside its own', async () => {
    let mono = 0;
    let wall = 1_000_000;
    const windowMs = 60_000;
    const maxRowsPerWindow = 2;
    const a = new AuthFailureAudit(stores.audit, { windowMs, maxRowsPerWindow, clock: () => wall, monotonicClock: () => mono });
    const at = (ms: number) => {
      wall += ms - mono;
      mono = ms;
    };
    const fail = (ip: string) => a.record({ reason: 'unknown_key', ip });
    at(59_000); // late in the first window: A and B (the cap), each failing twice
    for (const ip of ['10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.2']) await fail(ip);
    const secondWindowStartsAt = 60_000;
    at(secondWindowStartsAt); // the second window: C and D (the cap), each failing twice
    const before = (await stores.audit.list({ limit: 1000 })).length;
    for (const ip of ['10.0.0.3', '10.0.0.3', '10.0.0.4', '10.0.0.4']) await fail(ip);
    at(119_000);
    await fail('10.0.0.5'); // past the cap: counted
    at(secondWindowStartsAt + windowMs); // the second window ends
    await a.flush();
    const inSecondWindow = (await stores.audit.list({ limit: 1000 })).length - before;
    await a.close();
    expect(inSecondWindow).toBeLessThanOrEqual(3 * maxRowsPerWindow + 1);
  });
});
