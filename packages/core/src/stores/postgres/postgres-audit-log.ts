import { buildAuditEntry, validateAuditInput } from '../../audit/audit-hash.js';
import type { AuditEntry, AuditInput, AuditLog, AuditQuery, AuditVerifyResult } from '../../audit/types.js';
import { auditLimit, auditWhere, verifyAuditPages } from '../audit-sql.js';
import { rowToAudit, type Row } from '../row-mapping.js';
import type { PostgresHandle } from './postgres-database.js';


/**
 * Hash-chained audit log in PostgreSQL. Appends from every process serialize on a transaction-level
 * advisory lock, so the chain stays linear.
 */
export class PostgresAuditLog implements AuditLog {
  constructor(
    private readonly pg: PostgresHandle,
    private readonly clock: () => number = Date.now,
  ) {
    pg.retain();
  }

  async append(input: AuditInput): Promise<AuditEntry> {
    validateAuditInput(input);
    return this.pg.transaction(async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`llmrr_audit:${this.pg.schema}`]);
      const head = (await c.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM llmrr_audit ORDER BY seq DESC LIMIT 1`)).rows[0];
      const e = buildAuditEntry(input, head ? { seq: Number(head.seq), hash: head.hash } : undefined, this.clock());
      await c.query(`INSERT INTO llmrr_audit (seq, ts, actor, action, target, details, ip, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        e.seq,
        e.ts,
        e.actor,
        e.action,
        e.target ?? null,
        e.details === undefined ? null : JSON.stringify(e.details),
        e.ip ?? null,
        e.prevHash,
        e.hash,
      ]);
      return e;
    });
  }

  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const { where, params } = auditWhere(query, (i) => `$${i}`);
    const order = query.order === 'desc' ? 'DESC' : 'ASC';
    const rows = await this.pg.query(`SELECT * FROM llmrr_audit ${where} ORDER BY seq ${order} LIMIT $${params.length + 1}`, [...params, auditLimit(query)]);
    return rows.map(rowToAudit);
  }

  async verify(): Promise<AuditVerifyResult> {
    return verifyAuditPages((after, limit) =>
      after === undefined
        ? this.pg.query<Row>(`SELECT * FROM llmrr_audit ORDER BY seq LIMIT $1`, [limit])
        : this.pg.query<Row>(`SELECT * FROM llmrr_audit WHERE seq > $1 ORDER BY seq LIMIT $2`, [after, limit]),
    );
  }

  async close(): Promise<void> {
    await this.pg.release();
  }
}
