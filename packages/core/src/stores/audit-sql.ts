import { AuditChainVerifier } from '../audit/audit-hash.js';
import type { AuditEntry, AuditQuery, AuditVerifyResult } from '../audit/types.js';
import { rowToAudit, type Row } from './row-mapping.js';

/** Rows read per page while verifying the chain. */
export const VERIFY_PAGE = 1000;

/**
 * Verifies the hash chain page by page: `page(after, limit)` returns the rows with `seq > after` in
 * `seq` order. Shared by the SQLite and PostgreSQL audit logs.
 */
export async function verifyAuditPages(page: (after: number, limit: number) => Row[] | Promise<Row[]>): Promise<AuditVerifyResult> {
  const v = new AuditChainVerifier();
  let after = 0;
  for (;;) {
    const rows = await page(after, VERIFY_PAGE);
    if (rows.length === 0) break;
    for (const row of rows) {
      let entry: AuditEntry;
      try {
        entry = rowToAudit(row);
      } catch {
        return { ok: false, count: v.result().count + 1, brokenAt: Number(row.seq), reason: 'entry cannot be read (details are not valid JSON)', headHash: v.result().headHash };
      }
      if (!v.feed(entry)) return v.result();
      after = entry.seq;
    }
  }
  return v.result();
}

/** WHERE clause for an audit query; `ph(i)` makes the i-th placeholder (`?` or `$i`). */
export function auditWhere(q: AuditQuery, ph: (index: number) => string): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const add = (column: string, op: string, v: unknown) => {
    params.push(v);
    parts.push(`${column} ${op} ${ph(params.length)}`);
  };
  if (q.actor !== undefined) add('actor', '=', q.actor);
  if (q.action !== undefined) add('action', '=', q.action);
  if (q.target !== undefined) add('target', '=', q.target);
  if (q.from !== undefined) add('ts', '>=', q.from);
  if (q.to !== undefined) add('ts', '<', q.to);
  if (q.afterSeq !== undefined) add('seq', '>', q.afterSeq);
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

export function auditLimit(q: AuditQuery): number {
  const n = Math.trunc(q.limit ?? 100);
  return Number.isNaN(n) ? 100 : Math.min(Math.max(n, 1), 1000);
}
