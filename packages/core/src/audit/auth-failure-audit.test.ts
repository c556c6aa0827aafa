import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStateStores } from '../stores/create-state-stores.js';
import type { StateStores } from '../stores/types.js';
import { AuthFailureAudit, authFailureAuditFor } from './auth-failure-audit.js';

describe('AuthFailureAudit', () => {
  let stores: StateStores;
  // The wall clock (dates the rows) and the monotonic clock (measures the windows): `advance` moves both, as real
  // time does; a step of the wall clock alone moves `now`.
  let now: number;
  let elapsed: number;
  const clock = () => now;
  const monotonicClock = () => elapsed;
  const advance = (ms: number) => {
    now += ms;
    elapsed += ms;
  };
  beforeEach(async () => {
    stores = await createStateStores({ mode: 'memory' });
    now = 1_000_000;
    elapsed = 0;
  });
  afterEach(() => stores.close());

  it('writes the first failure of a source at once and its repeats as one counted row per window', async () => {
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, clock, monotonicClock });
    for (let i = 0; i < 500; i++) {
      await a.record({ reason: 'unknown_key', ip: '10.0.0.1', keyPrefix: 'llmrr_abcdef', requestId: `r${i}` });
      advance(10);
    }
    let rows = await stores.audit.list({ action: 'auth.failure' });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details).toMatchObject({ reason: 'unknown_key', keyPrefix: 'llmrr_abcdef', requestId: 'r0' });
    expect(rows[0]!.ip).toBe('10.0.0.1');
    advance(60_000 - 5_000);
    await a.flush();
    rows = await stores.audit.list({ action: 'auth.failure' });
    expect(rows).toHaveLength(2);
    expect(rows[1]!.details).toMatchObject({ reason: 'unknown_key', repeated: true, count: 499, firstAt: 1_000_000, lastAt: 1_000_000 + 4_990 });
    // The next window starts afresh with a row at once.
    await a.record({ reason: 'unknown_key', ip: '10.0.0.1', keyPrefix: 'llmrr_abcdef', requestId: 'later' });
    expect(await stores.audit.list({ action: 'auth.failure' })).toHaveLength(3);
    await a.close();
    expect((await stores.audit.verify()).ok).toBe(true);
  });

  it('keeps sources apart (IP, reason, key) and caps first rows per window; the rest is one suppressed row', async () => {
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, maxRowsPerWindow: 10, clock, monotonicClock });
    await a.record({ reason: 'missing_key', ip: '10.0.0.1' });
    await a.record({ reason: 'unknown_key', ip: '10.0.0.1', keyPrefix: 'llmrr_aaaaaa' });
    await a.record({ reason: 'revoked', ip: '10.0.0.1', keyId: 'key_1', tenantId: 't' });
    await a.record({ reason: 'missing_key', ip: '10.0.0.2' });
    expect(await stores.audit.list({ action: 'auth.failure' })).toHaveLength(4);
    // An attacker rotating addresses: 1,000 distinct sources in one window.
    for (let i = 0; i < 1_000; i++) await a.record({ reason: 'unknown_key', ip: `2001:db8::${i.toString(16)}` });
    expect(await stores.audit.list({ action: 'auth.failure', limit: 1000 })).toHaveLength(10);
    await a.close();
    const suppressed = await stores.audit.list({ action: 'auth.failure.suppressed' });
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0]!.details).toMatchObject({ count: 994, maxRowsPerWindow: 10 });
    const all = await stores.audit.list({ limit: 1000 });
    expect(all.length).toBeLessThanOrEqual(2 * 10 + 1);
    const revoked = (await stores.audit.list({ action: 'auth.failure' })).find((r) => r.details?.reason === 'revoked');
    expect(revoked).toMatchObject({ target: 'key_1', details: { keyId: 'key_1', tenantId: 't' } });
  });

  it('stores.close() writes the counts still pending', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-authfail-'));
    try {
      const embedded = await createStateStores({ mode: 'embedded', dataDir: dir });
      const a = authFailureAuditFor(embedded.audit, { clock });
      expect(authFailureAuditFor(embedded.audit)).toBe(a); // one per audit log
      for (let i = 0; i < 5; i++) await a.record({ reason: 'malformed', ip: '10.0.0.9' });
      expect(await embedded.audit.list()).toHaveLength(1);
      await embedded.close();
      const reopened = await createStateStores({ mode: 'embedded', dataDir: dir });
      const rows = await reopened.audit.list();
      expect(rows.map((r) => r.details?.count)).toEqual([undefined, 4]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a failed write goes to the onError of the record() call that made it, else (flush, close) to the constructor's", async () => {
    const general: unknown[] = [];
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, clock, monotonicClock }, (e) => general.push(e));
    const down = new Error('audit store down');
    const append = stores.audit.append.bind(stores.audit);
    stores.audit.append = () => Promise.reject(down);
    try {
      const first: unknown[] = [];
      const second: unknown[] = [];
      await a.record({ reason: 'unknown_key', ip: '10.0.0.1', requestId: 'r1' }, (e) => first.push(e));
      await a.record({ reason: 'missing_key', ip: '10.0.0.2', requestId: 'r2' }, (e) => second.push(e));
      await a.record({ reason: 'missing_key', ip: '10.0.0.2', requestId: 'r3' }); // a repeat: counted, nothing written now
      expect({ first, second, general }).toEqual({ first: [down], second: [down], general: [] });
      await a.close(); // the repeat's count
      expect(general).toEqual([down]);
    } finally {
      stores.audit.append = append;
    }
  });

  it("the counts of a window ended by another source's record() go to the constructor's onError, not that call's", async () => {
    const general: unknown[] = [];
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, clock, monotonicClock }, (e) => general.push(new Error(`general: ${(e as Error).message}`)));
    await a.record({ reason: 'unknown_key', ip: '10.0.0.1', requestId: 'r1' });
    await a.record({ reason: 'unknown_key', ip: '10.0.0.1', requestId: 'r2' }); // a repeat, counted for the window's end
    advance(60_000);
    const append = stores.audit.append.bind(stores.audit);
    stores.audit.append = (entry) => Promise.reject(new Error(`down: ${entry.details?.repeated === true ? 'counts' : 'own row'}`));
    try {
      const caller: unknown[] = [];
      await a.record({ reason: 'missing_key', ip: '10.0.0.2', requestId: 'r3' }, (e) => caller.push(e));
      expect({ caller: caller.map((e) => (e as Error).message), general: general.map((e) => (e as Error).message) }).toEqual({
        caller: ['down: own row'],
        general: ['general: down: counts'],
      });
    } finally {
      stores.audit.append = append;
      await a.close();
    }
  });

  // Windows run on the monotonic clock; the wall clock only dates the rows. (Found in review: a wall clock stepped back
  // behind a window's start kept the window open until the clock had caught up, an hour after a step back of an hour,
  // with its counts unwritten and new sources past the cap audited only as a count.)
  it('writes the repeats of a window one window after it started, though the wall clock stepped back an hour in it', async () => {
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, clock, monotonicClock });
    const f = { reason: 'unknown_key', ip: '10.0.0.1', keyPrefix: 'llmrr_abcdef' };
    await a.record(f);
    advance(1_000);
    await a.record(f);
    await a.record(f);
    now -= 3_600_000; // NTP steps the wall clock back
    await a.flush(); // the timer's tick after the step: the window has not ended
    expect(await stores.audit.list({ action: 'auth.failure' })).toHaveLength(1);
    advance(59_000);
    await a.flush();
    const rows = await stores.audit.list({ action: 'auth.failure' });
    expect(rows.map((r) => r.details)).toMatchObject([{ reason: 'unknown_key' }, { repeated: true, count: 2, firstAt: 1_000_000, lastAt: 1_001_000 }]);
    await a.close();
  });

  it('after the wall clock steps back, the cap holds to the end of the window, then a new source gets its own row again', async () => {
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, maxRowsPerWindow: 2, clock, monotonicClock });
    await a.record({ reason: 'unknown_key', ip: '10.0.0.1' });
    await a.record({ reason: 'unknown_key', ip: '10.0.0.2' });
    now -= 3_600_000;
    await a.record({ reason: 'unknown_key', ip: '10.0.0.3' }); // past the cap: counted
    advance(60_000);
    await a.record({ reason: 'unknown_key', ip: '10.0.0.4' });
    expect((await stores.audit.list({ action: 'auth.failure' })).map((r) => r.ip)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4']);
    expect((await stores.audit.list({ action: 'auth.failure.suppressed' })).map((r) => r.details)).toMatchObject([{ count: 1, firstAt: 1_000_000 - 3_600_000, lastAt: 1_000_000 - 3_600_000 }]);
    await a.close();
  });

  // A guest's wall clock fought over by two time sources (hypervisor sync and NTP) flips between two readings 61 s
  // apart while 40 failures arrive in 4 s. (Found in review: a step back moved the window's start back to the low
  // reading, so every high reading ended the window: every failure became a row, the cap lifted.)
  it('a wall clock flipping between two readings a window apart neither ends windows nor lifts the cap', async () => {
    const one = new AuthFailureAudit(stores.audit, { windowMs: 60_000, clock, monotonicClock });
    const many = new AuthFailureAudit(stores.audit, { windowMs: 60_000, maxRowsPerWindow: 2, clock, monotonicClock });
    const low = now;
    for (let i = 0; i < 40; i++) {
      elapsed = i * 100;
      now = low + elapsed + (i % 2 === 1 ? 61_000 : 0);
      await one.record({ reason: 'unknown_key', ip: '10.0.0.1', keyPrefix: 'llmrr_abcdef' });
      await many.record({ reason: 'unknown_key', ip: `10.0.1.${i}` });
    }
    // One window so far: one source's first failure, and 2 first failures of the 40 sources.
    expect((await stores.audit.list({ action: 'auth.failure', limit: 1000 })).map((r) => r.ip)).toEqual(['10.0.0.1', '10.0.1.0', '10.0.1.1']);
    await one.close();
    await many.close();
    const repeated = (await stores.audit.list({ action: 'auth.failure', limit: 1000 })).filter((r) => r.details?.repeated);
    // Every failure counted, each row spanning the readings of its failures.
    expect(repeated.map((r) => r.details)).toMatchObject([{ count: 39, firstAt: low, lastAt: low + 3_900 + 61_000 }]);
    expect((await stores.audit.list({ action: 'auth.failure.suppressed' })).map((r) => r.details)).toMatchObject([{ count: 38, firstAt: low + 200, lastAt: low + 3_900 + 61_000 }]);
  });

  // A repeat seen after a step back is dated by the corrected clock, the first failure by the fast one. (Found in
  // review: the repeated row's lastAt was before its firstAt.)
  it("a repeated row's firstAt and lastAt span its failures' readings after a step back (lastAt never before firstAt)", async () => {
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, clock, monotonicClock });
    const f = { reason: 'unknown_key', ip: '10.0.0.1', keyPrefix: 'llmrr_abcdef' };
    await a.record(f);
    advance(1_000);
    await a.record(f);
    now -= 3_600_000;
    await a.record(f);
    await a.close();
    const repeated = (await stores.audit.list({ action: 'auth.failure' })).find((r) => r.details?.repeated);
    expect(repeated?.details).toMatchObject({ count: 2, firstAt: 1_001_000 - 3_600_000, lastAt: 1_001_000 });
  });
});
