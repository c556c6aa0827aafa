import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_HASH, computeAuditHash } from '../../audit/audit-hash.js';
import type { AuditLog } from '../../audit/types.js';
import { verifyAuditChain } from '../../audit/verify-audit-chain.js';
import { LLMError } from '../../errors/llm-error.js';
import { runWorker } from './run-child.js';
import type { FixtureFactory, StoreFixture } from './store-fixtures.js';

/** How to defeat the append-only guard, as an attacker with database access would. */
export interface AuditTamper {
  disableGuard: string[];
  /** Placeholder style of the backend. */
  ph: (i: number) => string;
}

export function auditLogContract(label: string, makeFixture: FixtureFactory, tamper: AuditTamper): void {
  describe(`AuditLog contract (${label})`, () => {
    let fx: StoreFixture;
    let audit: AuditLog;
    beforeEach(async () => {
      fx = await makeFixture();
      audit = fx.stores.audit;
    });
    afterEach(async () => {
      await fx.close();
    });

    const seed = async (n: number) => {
      for (let i = 1; i <= n; i++) {
        await audit.append({ actor: 'admin', action: i % 2 ? 'key.create' : 'tenant.update', target: `t${i}`, details: { n: i, nested: { b: 2, a: [1, 'x'] } }, ip: '127.0.0.1' });
      }
    };
    const disableGuard = async () => {
      for (const s of tamper.disableGuard) await fx.sql(s);
    };

    it('appends a hash chain that verifies', async () => {
      const empty = await audit.verify();
      expect(empty).toEqual({ ok: true, count: 0, headHash: AUDIT_GENESIS_HASH });
      const first = await audit.append({ actor: 'admin', action: 'tenant.create', target: 'acme', details: { name: 'Acme', skipped: undefined } });
      expect(first.seq).toBe(1);
      expect(first.prevHash).toBe(AUDIT_GENESIS_HASH);
      expect(first.hash).toBe(computeAuditHash(first));
      expect(first.details).toEqual({ name: 'Acme' });
      const second = await audit.append({ actor: 'anonymous', action: 'auth.failure', ip: '10.0.0.1' });
      expect(second.seq).toBe(2);
      expect(second.prevHash).toBe(first.hash);
      const listed = await audit.list();
      expect(listed).toEqual([first, second]);
      const v = await audit.verify();
      expect(v).toEqual({ ok: true, count: 2, headHash: second.hash });
      const report = await verifyAuditChain(fx.stores);
      expect(report.exitCode).toBe(0);
      expect(report.message).toContain('OK: 2 entries');
    });

    it('stays linear under concurrent appends', async () => {
      const entries = await Promise.all(Array.from({ length: 40 }, (_, i) => audit.append({ actor: 'system', action: 'test.concurrent', details: { i } })));
      expect(entries.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      expect(await audit.verify()).toMatchObject({ ok: true, count: 40 });
    });

    it('forms one chain when two processes append concurrently', async () => {
      const args = (actor: string) => ['audit-append', JSON.stringify(fx.childConfig), '30', actor];
      const [one, two, mine] = await Promise.all([
        runWorker(args('proc-a')),
        runWorker(args('proc-b')),
        Promise.all(Array.from({ length: 10 }, (_, i) => audit.append({ actor: 'parent', action: 'test.multi-process', details: { i } }))),
      ]);
      const seqs = [...(JSON.parse(one) as { seqs: number[] }).seqs, ...(JSON.parse(two) as { seqs: number[] }).seqs, ...mine.map((e) => e.seq)];
      expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 70 }, (_, i) => i + 1));
      expect(await audit.verify()).toMatchObject({ ok: true, count: 70 });
      const actors = new Set((await audit.list({ limit: 1000 })).map((e) => e.actor));
      expect(actors).toEqual(new Set(['proc-a', 'proc-b', 'parent']));
    }, 120_000);

    it('lists with filters and paging', async () => {
      await seed(6);
      expect((await audit.list({ action: 'key.create' })).map((e) => e.seq)).toEqual([1, 3, 5]);
      expect((await audit.list({ target: 't4' })).map((e) => e.seq)).toEqual([4]);
      expect((await audit.list({ afterSeq: 4 })).map((e) => e.seq)).toEqual([5, 6]);
      expect((await audit.list({ order: 'desc', limit: 2 })).map((e) => e.seq)).toEqual([6, 5]);
      expect((await audit.list({ actor: 'nobody' })).length).toBe(0);
    });

    it('pages newest-first with beforeSeq; afterSeq and beforeSeq bound the range in either order', async () => {
      await seed(6);
      expect((await audit.list({ order: 'desc', limit: 2, beforeSeq: 5 })).map((e) => e.seq)).toEqual([4, 3]);
      expect((await audit.list({ order: 'desc', limit: 2, beforeSeq: 3 })).map((e) => e.seq)).toEqual([2, 1]);
      expect(await audit.list({ order: 'desc', limit: 2, beforeSeq: 1 })).toEqual([]);
      expect((await audit.list({ order: 'desc', afterSeq: 2, beforeSeq: 6 })).map((e) => e.seq)).toEqual([5, 4, 3]);
      expect((await audit.list({ afterSeq: 2, beforeSeq: 6 })).map((e) => e.seq)).toEqual([3, 4, 5]);
      expect((await audit.list({ action: 'key.create', order: 'desc', beforeSeq: 5 })).map((e) => e.seq)).toEqual([3, 1]);
    });

    it('refuses updates and deletes through the database guard', async () => {
      await seed(2);
      await expect(fx.sql(`UPDATE llmrr_audit SET actor = 'mallory' WHERE seq = 1`)).rejects.toThrow(/append-only/);
      await expect(fx.sql(`DELETE FROM llmrr_audit WHERE seq = 1`)).rejects.toThrow(/append-only/);
      expect((await audit.verify()).ok).toBe(true);
    });

    it('detects an edited entry and says where', async () => {
      await seed(5);
      await disableGuard();
      await fx.sql(`UPDATE llmrr_audit SET details = ${tamper.ph(1)} WHERE seq = 3`, [JSON.stringify({ n: 3, nested: { a: [1, 'x'], b: 3 } })]);
      const v = await audit.verify();
      expect(v).toMatchObject({ ok: false, brokenAt: 3, count: 3 });
      expect(v.reason).toMatch(/modified/);
      const report = await verifyAuditChain(audit);
      expect(report.exitCode).toBe(1);
      expect(report.message).toContain('BROKEN at entry 3');
    });

    it('detects a recomputed hash (the next link breaks) and a deleted entry', async () => {
      await seed(5);
      await disableGuard();
      // The attacker edits entry 2 and recomputes its hash: entry 3's prevHash no longer matches.
      const [row] = await audit.list({ afterSeq: 1, limit: 1 });
      const forged = { ...row!, actor: 'mallory' };
      const hash = computeAuditHash(forged);
      await fx.sql(`UPDATE llmrr_audit SET actor = 'mallory', hash = ${tamper.ph(1)} WHERE seq = 2`, [hash]);
      expect(await audit.verify()).toMatchObject({ ok: false, brokenAt: 3 });

      await fx.sql(`DELETE FROM llmrr_audit WHERE seq >= 2`);
      await seed(0);
      expect((await audit.verify()).ok).toBe(true); // cutting the tail is invisible without an exported head hash
      const fx2 = await makeFixture();
      try {
        const a = fx2.stores.audit;
        for (let i = 0; i < 4; i++) await a.append({ actor: 'x', action: 'y' });
        for (const s of tamper.disableGuard) await fx2.sql(s);
        await fx2.sql(`DELETE FROM llmrr_audit WHERE seq = 2`);
        const v = await a.verify();
        expect(v).toMatchObject({ ok: false, brokenAt: 3 });
        expect(v.reason).toMatch(/expected seq 2/);
      } finally {
        await fx2.close();
      }
    });

    it('rejects bad input with a typed error naming the field', async () => {
      const e = await audit.append({ actor: '', action: 'x' }).then(() => undefined, (x: unknown) => x);
      expect(LLMError.isInstance(e) && e.param).toBe('actor');
      const e2 = await audit.append({ actor: 'a', action: 'x', details: [] as never }).then(() => undefined, (x: unknown) => x);
      expect(LLMError.isInstance(e2) && e2.param).toBe('details');
    });
  });
}
