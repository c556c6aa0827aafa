import type { AuditQuery } from '../audit/types.js';

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
