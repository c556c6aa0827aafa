import { buildAuditEntry, validateAuditInput } from '../../audit/audit-hash.js';
import type { AuditEntry, AuditInput, AuditLog, AuditQuery, AuditVerifyResult } from '../../audit/types.js';
import { auditLimit, auditWhere, verifyAuditPages } from '../audit-sql.js';
import { rowToAudit, type Row } from '../row-mapping.js';
import { LLMError } from '../../errors/llm-error.js';
import { Slots, type PostgresHandle } from './postgres-database.js';

/** Pool connections one process's appends hold at most (one holds the lock, one waits for it). */
const AUDIT_CONNECTIONS = 2;

/** How long an append may wait, for its turn, a connection and the chain's lock, before it fails (ms). */
export const AUDIT_APPEND_TIMEOUT_MS = 5_000;

export interface PostgresAuditLogOptions {
  /** Bound of one append (default `AUDIT_APPEND_TIMEOUT_MS`): past it, `store_unavailable`. */
  timeoutMs?: number;
}

/**
 * Hash-chained audit log in PostgreSQL. Appends from every process serialize on a transaction-level
 * advisory lock, so the chain stays linear. Each append is bounded (`timeoutMs`, as a `lock_timeout` and a
 * `statement_timeout` of its transaction, its wait for a turn included): a process that stalls while it holds
 * the lock (paused, cut off: PostgreSQL keeps its transaction until TCP gives up, hours) makes the others'
 * appends fail with `store_unavailable` instead of waiting for it. Its COMMIT is bounded too: one whose answer is
 * late or whose connection is lost is settled by reading back, on a new connection behind the chain's lock, whether
 * its transaction committed (`PostgresHandle.transaction`'s `readBack`): an entry written is reported written, one
 * that is not `store_unavailable`; only when that cannot tell either (the lock still held: the COMMIT did not reach
 * the server) is the failure's message "the change may have been written". And at most two appends of a process hold a
 * pool connection at a time (they queue on the lock anyway), so waiting appends never take the connections the
 * key lookups need.
 */
export class PostgresAuditLog implements AuditLog {
  private readonly timeoutMs: number;
  private readonly slots: Slots;

  constructor(
    private readonly pg: PostgresHandle,
    private readonly clock: () => number = Date.now,
    options: PostgresAuditLogOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? AUDIT_APPEND_TIMEOUT_MS;
    this.slots = new Slots(Math.max(1, Math.min(AUDIT_CONNECTIONS, pg.poolMax - 1)), (ms) =>
      late(ms, "earlier appends of this process still hold its connections, waiting for the chain's lock"),
    );
    pg.retain();
  }

  async append(input: AuditInput): Promise<AuditEntry> {
    validateAuditInput(input);
    const deadline = performance.now() + this.timeoutMs;
    await this.slots.acquire(this.timeoutMs);
    const lock = { sql: `SELECT pg_advisory_xact_lock(hashtext($1))`, params: [`llmrr_audit:${this.pg.schema}`] };
    try {
      const left = deadline - performance.now();
      if (left < 1) throw late(this.timeoutMs, 'its turn came too late');
      // The read-back waits for the chain's lock: once granted, the transaction that inserted the entry has ended.
      return await this.pg.transaction(async (c) => {
        await c.query(lock.sql, lock.params);
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
      }, { timeoutMs: left, readBack: lock });
    } finally {
      this.slots.release();
    }
  }

  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const { where, params } = auditWhere(query, (i) => `$${i}`);
    const order = query.order === 'desc' ? 'DESC' : 'ASC';
    // A report read (`postgresReportTimeoutMs`): a listing over a long chain may outrun the hot path's bound.
    const rows = await this.pg.report(`SELECT * FROM llmrr_audit ${where} ORDER BY seq ${order} LIMIT $${params.length + 1}`, [...params, auditLimit(query)]);
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

function late(timeoutMs: number, why: string): LLMError {
  return new LLMError({ code: 'store_unavailable', message: `PostgreSQL: the audit log did not take an entry within ${timeoutMs} ms (${why})` });
}
