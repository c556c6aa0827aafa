import { AuditChainVerifier } from '../audit/audit-hash.js';
import type { AuditEntry, AuditQuery, AuditVerifyResult } from '../audit/types.js';
import { MAX_QUERY_LIMIT } from '../metering/usage-input.js';
import { rowToAudit, type Row } from './row-mapping.js';

/** Rows read per page while verifying the chain. */
export const VERIFY_PAGE = 1000;

/**
 * Verifies the hash chain page by page: `page(after, limit)` returns the rows with `seq > after` in
 * `seq` order, or from the very first row when `after` is undefined (so a row planted below seq 1 is
 * read, and fails the check, instead of being skipped). Shared by the SQLite and PostgreSQL audit logs.
 * Gives the event loop a turn between pages: SQLite reads synchronously, and a long chain must not stall
 * the gateway. `damaged(e)` says a read failed because the stored log itself is damaged (a SQLite file cut short or
 * overwritten): the chain is then broken after the last entry read, not "could not be checked".
 */
export async function verifyAuditPages(page: (after: number | undefined, limit: number) => Row[] | Promise<Row[]>, damaged?: (e: unknown) => boolean): Promise<AuditVerifyResult> {
  const v = new AuditChainVerifier();
  let after: number | undefined;
  for (;;) {
    let rows: Row[];
    try {
      rows = await page(after, VERIFY_PAGE);
    } catch (e) {
      if (!damaged?.(e)) throw e;
      const last = after ?? 0;
      const { count, headHash } = v.result();
      return { ok: false, count, brokenAt: last + 1, reason: `the stored log is damaged: the entries after entry ${last} cannot be read (${(e as Error).message})`, headHash };
    }
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
    if (rows.length < VERIFY_PAGE) break;
    await nextTurn();
  }
  return v.result();
}

/** Resolves after pending I/O and timers had a turn (setImmediate where there is one). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
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
  if (q.beforeSeq !== undefined) add('seq', '<', q.beforeSeq);
  return { where: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** An audit query's limit (default 100) capped at MAX_QUERY_LIMIT (1000) and raised to 1, silently, as `queryLimit`. */
export function auditLimit(q: AuditQuery): number {
  const n = Math.trunc(q.limit ?? 100);
  return Number.isNaN(n) ? 100 : Math.min(Math.max(n, 1), MAX_QUERY_LIMIT);
}
