import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStateStores } from '../stores/create-state-stores.js';
import type { StateStores } from '../stores/types.js';
import { AuthFailureAudit, authFailureAuditFor } from './auth-failure-audit.js';

describe('AuthFailureAudit', () => {
  let stores: StateStores;
  let now: number;
  const clock = () => now;
  beforeEach(async () => {
    stores = await createStateStores({ mode: 'memory' });
    now = 1_000_000;
  });
  afterEach(() => stores.close());

  it('writes the first failure of a source at once and its repeats as one counted row per window', async () => {
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, clock });
    for (let i = 0; i < 500; i++) {
      await a.record({ reason: 'unknown_key', ip: '10.0.0.1', keyPrefix: 'llmrr_abcdef', requestId: `r${i}` });
      now += 10;
    }
    let rows = await stores.audit.list({ action: 'auth.failure' });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.details).toMatchObject({ reason: 'unknown_key', keyPrefix: 'llmrr_abcdef', requestId: 'r0' });
    expect(rows[0]!.ip).toBe('10.0.0.1');
    now = 1_000_000 + 60_000;
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
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, maxRowsPerWindow: 10, clock });
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
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, clock }, (e) => general.push(e));
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
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, clock }, (e) => general.push(new Error(`general: ${(e as Error).message}`)));
    await a.record({ reason: 'unknown_key', ip: '10.0.0.1', requestId: 'r1' });
    await a.record({ reason: 'unknown_key', ip: '10.0.0.1', requestId: 'r2' }); // a repeat, counted for the window's end
    now += 60_000;
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

  // A wall clock stepped back (NTP) behind a window's start restarts the window from the clock's time (not its end: a
  // clock that keeps stepping back cannot turn every failure into a row). (Found in review: the window lasted until the
  // clock had caught up again, an hour after a step back of an hour, with its counts unwritten and new sources past
  // the cap audited only as a count.)
  it('writes the repeats of a window one window after the wall clock steps back one hour, not an hour later', async () => {
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, clock });
    const f = { reason: 'unknown_key', ip: '10.0.0.1', keyPrefix: 'llmrr_abcdef' };
    await a.record(f);
    now += 1_000;
    await a.record(f);
    await a.record(f);
    now -= 3_600_000;
    await a.flush(); // the timer's tick after the step: the window runs from now
    expect(await stores.audit.list({ action: 'auth.failure' })).toHaveLength(1);
    now += 60_000;
    await a.flush();
    const rows = await stores.audit.list({ action: 'auth.failure' });
    expect(rows.map((r) => r.details)).toMatchObject([{ reason: 'unknown_key' }, { repeated: true, count: 2, firstAt: 1_000_000, lastAt: 1_001_000 }]);
    await a.close();
  });

  it('after the wall clock steps back, the cap holds one window, then a new source gets its own row again', async () => {
    const a = new AuthFailureAudit(stores.audit, { windowMs: 60_000, maxRowsPerWindow: 2, clock });
    await a.record({ reason: 'unknown_key', ip: '10.0.0.1' });
    await a.record({ reason: 'unknown_key', ip: '10.0.0.2' });
    now -= 3_600_000;
    await a.record({ reason: 'unknown_key', ip: '10.0.0.3' }); // past the cap: counted
    now += 60_000;
    await a.record({ reason: 'unknown_key', ip: '10.0.0.4' });
    expect((await stores.audit.list({ action: 'auth.failure' })).map((r) => r.ip)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.4']);
    expect((await stores.audit.list({ action: 'auth.failure.suppressed' })).map((r) => r.details)).toMatchObject([{ count: 1 }]);
    await a.close();
  });
});
