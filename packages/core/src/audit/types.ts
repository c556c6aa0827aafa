/**
 * Append-only, hash-chained audit log. Each entry stores `prevHash` and
 * `hash = SHA-256(canonical JSON of the entry without hash, prevHash included)`, so editing, deleting
 * or reordering a stored entry breaks `verify()` at that entry. (Cutting off the newest entries can only
 * be detected against a head kept elsewhere: `llmrr audit verify --anchor` / `verifyAuditChain(log, { anchor })`.)
 */

export interface AuditInput {
  /** Who: `admin`, `key:key_...`, `tenant:...`, `system`, or `anonymous`. */
  actor: string;
  /** What, dotted: `tenant.create`, `key.rotate`, `key.revoke`, `auth.failure`, `budget.update`, ... */
  action: string;
  /** On what: a tenant id, key id, ... */
  target?: string;
  /** JSON-serializable details. Never put secrets here. */
  details?: Record<string, unknown>;
  ip?: string;
}

export interface AuditEntry {
  /** 1, 2, 3, ... without gaps. */
  seq: number;
  ts: number;
  actor: string;
  action: string;
  target?: string;
  details?: Record<string, unknown>;
  ip?: string;
  /** Hex SHA-256 of the previous entry; 64 zeros for the first. */
  prevHash: string;
  hash: string;
}

export interface AuditQuery {
  actor?: string;
  action?: string;
  target?: string;
  /** Inclusive. */
  from?: number;
  /** Exclusive. */
  to?: number;
  /** Only entries with seq > afterSeq: the next page oldest-first (`order: 'asc'`); with `desc`, a lower bound. */
  afterSeq?: number;
  /** Only entries with seq < beforeSeq: the next page newest-first (`order: 'desc'`); with `asc`, an upper bound. */
  beforeSeq?: number;
  /**
   * Default 100, at most 1000: a larger limit is taken as 1000 and one below 1 as 1, without an error (page on
   * with `afterSeq`, or `beforeSeq` when newest-first, set to the last entry's `seq`).
   */
  limit?: number;
  /** `asc` (oldest first, default) or `desc`. */
  order?: 'asc' | 'desc';
}

export interface AuditVerifyResult {
  ok: boolean;
  /** Entries checked. */
  count: number;
  /** seq of the first entry that does not verify. */
  brokenAt?: number;
  reason?: string;
  /** Hash of the last entry checked (64 zeros when empty). */
  headHash: string;
}

export interface AuditLog {
  /** Serialized across processes (SQLite write lock / PostgreSQL advisory lock). */
  append(input: AuditInput): Promise<AuditEntry>;
  list(query?: AuditQuery): Promise<AuditEntry[]>;
  /** Walks the whole chain in seq order, in pages (bounded memory). */
  verify(): Promise<AuditVerifyResult>;
  close(): Promise<void>;
}
