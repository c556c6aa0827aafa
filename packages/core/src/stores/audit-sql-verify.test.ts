import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAuditEntry, computeAuditHash } from '../audit/audit-hash.js';
import type { AuditEntry } from '../audit/types.js';
import { verifyAuditChain } from '../audit/verify-audit-chain.js';
import { runCli } from '../cli/__fixtures__/cli-harness.js';
import { sharedFixture, sharedSkipReason, sqliteFixture, type FixtureFactory, type StoreFixture } from './__fixtures__/store-fixtures.js';

/**
 * An entry with a sequence number below 1 (0 or negative) is listed by the audit log (`GET /admin/audit`,
 * `list()`: `ORDER BY seq`) as the oldest entry, so the chain check must read it too: it starts at the first
 * row, not at `seq > 0`, and fails naming the entry. Schemas since this fix refuse such an INSERT (a trigger
 * on SQLite, a CHECK on PostgreSQL); someone with write access to the database can drop that guard (as the
 * append-only triggers), and a database written before it may hold such a row, so verification is what
 * catches it. (Found in review: `verify()`, `GET /admin/audit/verify` and `llmrr audit verify` called such
 * a log intact.)
 */
function plantedEntryTests(label: string, makeFixture: FixtureFactory, ph: (i: number) => string): void {
  describe(`audit chain vs an entry planted below seq 1 (${label})`, () => {
    let fx: StoreFixture;
    beforeEach(async () => {
      fx = await makeFixture();
      for (let i = 1; i <= 3; i++) await fx.stores.audit.append({ actor: 'admin', action: 'tenant.update', target: `t${i}`, details: { n: i } });
    });
    afterEach(async () => {
      await fx.close();
    });

    const insertRow = async (seq: number) => {
      // A self-consistent row (its hash matches its content), as an attacker would write it.
      const base: Omit<AuditEntry, 'hash'> = { seq, ts: 1, actor: 'admin', action: 'key.revoke', target: 'key_victim', details: { requestId: 'req_forged' }, prevHash: '0'.repeat(64) };
      const hash = computeAuditHash(base);
      const p = Array.from({ length: 9 }, (_, i) => ph(i + 1)).join(', ');
      await fx.sql(`INSERT INTO llmrr_audit (seq, ts, actor, action, target, details, ip, prev_hash, hash) VALUES (${p})`, [
        seq,
        base.ts,
        base.actor,
        base.action,
        base.target,
        JSON.stringify(base.details),
        null,
        base.prevHash,
        hash,
      ]);
    };
    // As an attacker with DDL rights would (or as a database from before the guard was).
    const dropGuard = () => fx.sql(label === 'sqlite' ? 'DROP TRIGGER llmrr_audit_seq_from_1' : 'ALTER TABLE llmrr_audit DROP CONSTRAINT llmrr_audit_seq_from_1');
    const plant = async (seq: number) => {
      await dropGuard();
      await insertRow(seq);
    };

    it('the schema refuses an entry below seq 1', async () => {
      await expect(insertRow(0)).rejects.toThrow(label === 'sqlite' ? /start at seq 1/ : /llmrr_audit_seq_from_1/);
      expect(await fx.stores.audit.list()).toHaveLength(3);
    });

    for (const seq of [0, -1]) {
      it(`an entry inserted with seq ${seq} is listed as the oldest entry, and the chain check must not call the log intact`, async () => {
        const anchor = { seq: 3, hash: (await fx.stores.audit.verify()).headHash };
        await plant(seq);
        const listed = await fx.stores.audit.list();
        expect(listed[0]).toMatchObject({ seq, action: 'key.revoke', target: 'key_victim' }); // what an admin reads
        expect(listed).toHaveLength(4);
        const v = await fx.stores.audit.verify();
        expect(v.ok, `verify() = ${JSON.stringify(v)}`).toBe(false);
        expect(v).toMatchObject({ brokenAt: seq, count: 1 });
        expect(v.reason).toMatch(new RegExp(`entry ${seq} has a sequence number below 1`));
        const report = await verifyAuditChain(fx.stores.audit, { anchor });
        expect(report.exitCode, report.message).toBe(1);
      });
    }

    if (label === 'sqlite') {
      it('llmrr audit verify exits non-zero naming the planted entry', async () => {
        await plant(0);
        const dataDir = (fx.childConfig as { dataDir: string }).dataDir;
        const r = await runCli(['audit', 'verify', '--data-dir', dataDir]);
        expect(r.code, `stdout: ${r.stdout} stderr: ${r.stderr}`).toBe(1);
        expect(r.stderr).toMatch(/entry 0/);
      });
    }
  });
}

plantedEntryTests('sqlite', sqliteFixture, () => '?');

const skip = sharedSkipReason();
describe.skipIf(skip !== undefined)(skip ?? 'shared (PostgreSQL)', () => {
  plantedEntryTests('postgres', sharedFixture, (i) => `$${i}`);
});

/**
 * On SQLite, `verify()` (`GET /admin/audit/verify`) reads its 1000-row pages with synchronous calls; it gives
 * the event loop a turn (setImmediate) between pages, so the embedded gateway keeps answering requests, stream
 * chunks and health checks while a long chain is checked. (Found in review: the walk never yielded, and
 * 200 000 entries blocked the loop for 7.4 s.)
 */
describe('audit verify on SQLite and the event loop', () => {
  let fx: StoreFixture;
  beforeEach(async () => {
    fx = await sqliteFixture();
    let prev: AuditEntry | undefined;
    const rows: AuditEntry[] = [];
    for (let i = 0; i < 5_000; i++) {
      prev = buildAuditEntry({ actor: 'anonymous', action: 'auth.failure', details: { reason: 'unknown_key', n: i }, ip: '10.0.0.1' }, prev, 1_700_000_000_000 + i);
      rows.push(prev);
    }
    await fx.sql('BEGIN');
    for (const e of rows) {
      await fx.sql('INSERT INTO llmrr_audit (seq, ts, actor, action, target, details, ip, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [e.seq, e.ts, e.actor, e.action, null, JSON.stringify(e.details), e.ip, e.prevHash, e.hash]);
    }
    await fx.sql('COMMIT');
  });
  afterEach(async () => {
    await fx.close();
  });

  it('lets other work run between the pages of a 5000-entry chain', async () => {
    let otherWorkRan = false;
    const verified = fx.stores.audit.verify();
    setImmediate(() => {
      otherWorkRan = true;
    });
    const v = await verified;
    expect(v).toMatchObject({ ok: true, count: 5_000 });
    expect(otherWorkRan, 'a setImmediate queued when verify() started ran before its 5 pages were done').toBe(true);
  });
});
