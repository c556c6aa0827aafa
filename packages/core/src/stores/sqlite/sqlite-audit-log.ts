import { buildAuditEntry, validateAuditInput } from '../../audit/audit-hash.js';
import type { AuditEntry, AuditInput, AuditLog, AuditQuery, AuditVerifyResult } from '../../audit/types.js';
import { auditLimit, auditWhere, verifyAuditPages } from '../audit-sql.js';
import { rowToAudit, type Row } from '../row-mapping.js';
import type { SqliteHandle } from './sqlite-database.js';

/** A read failed on a damaged database file (cut short, pages overwritten): SQLITE_CORRUPT or SQLITE_NOTADB. */
export function sqliteFileDamaged(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** Hash-chained audit log in SQLite; appends hold the write lock (`BEGIN IMMEDIATE`), so the chain is linear. */
export class SqliteAuditLog implements AuditLog {
  private readonly stmt;

  constructor(
    private readonly handle: SqliteHandle,
    private readonly clock: () => number = Date.now,
  ) {
    handle.retain();
    const db = handle.db;
    this.stmt = {
      head: db.prepare(`SELECT seq, hash FROM llmrr_audit ORDER BY seq DESC LIMIT 1`),
      insert: db.prepare(`INSERT INTO llmrr_audit (seq, ts, actor, action, target, details, ip, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      first: db.prepare(`SELECT * FROM llmrr_audit ORDER BY seq LIMIT ?`),
      page: db.prepare(`SELECT * FROM llmrr_audit WHERE seq > ? ORDER BY seq LIMIT ?`),
    };
  }

  async append(input: AuditInput): Promise<AuditEntry> {
    validateAuditInput(input);
    return this.handle.db
      .transaction(() => {
        const head = this.stmt.head.get() as { seq: number; hash: string } | undefined;
        const e = buildAuditEntry(input, head, this.clock());
        this.stmt.insert.run(e.seq, e.ts, e.actor, e.action, e.target ?? null, e.details === undefined ? null : JSON.stringify(e.details), e.ip ?? null, e.prevHash, e.hash);
        return e;
      })
      .immediate();
  }

  async list(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const { where, params } = auditWhere(query, () => '?');
    const order = query.order === 'desc' ? 'DESC' : 'ASC';
    const rows = this.handle.db.prepare(`SELECT * FROM llmrr_audit ${where} ORDER BY seq ${order} LIMIT ?`).all(...params, auditLimit(query)) as Row[];
    return rows.map(rowToAudit);
  }

  async verify(): Promise<AuditVerifyResult> {
    return verifyAuditPages((after, limit) => (after === undefined ? this.stmt.first.all(limit) : this.stmt.page.all(after, limit)) as Row[], sqliteFileDamaged);
  }

  async close(): Promise<void> {
    this.handle.release();
  }
}
