import type { AuditLog, AuditVerifyResult } from './types.js';

/** A point of the chain saved outside the log (`llmrr audit verify --write-anchor`): entry `seq` had `hash`. */
export interface AuditAnchor {
  seq: number;
  hash: string;
  /** When it was taken (epoch ms); informational. */
  at?: number;
}

export interface AuditChainReport extends AuditVerifyResult {
  /** One line for a terminal, e.g. `audit chain OK: 42 entries, head 3f2a...`. */
  message: string;
  /** Process exit code for `llmrr audit verify`: 0 ok, 1 broken. */
  exitCode: 0 | 1;
  /** With an anchor: whether the chain still holds the anchored entry unchanged. */
  anchor?: { seq: number; ok: boolean };
}

/** The head of a verified chain as an anchor to keep elsewhere (empty chain: seq 0 and the genesis hash). */
export function auditAnchorOf(r: AuditVerifyResult, at: number = Date.now()): AuditAnchor {
  return { seq: r.count, hash: r.headHash, at };
}

/**
 * What `llmrr audit verify` runs: verifies the chain of `stores.audit` (or an AuditLog) and words the result.
 * The chain alone shows edits, deletions and reordering, but not the newest entries cut off; with `anchor`
 * (a head saved earlier, outside the log) it also checks that the anchored entry is still there with the
 * same hash, so a log cut back (or rewritten) past the anchor fails too.
 */
export async function verifyAuditChain(stores: { audit: AuditLog } | AuditLog, options: { anchor?: AuditAnchor } = {}): Promise<AuditChainReport> {
  const log = 'audit' in stores ? stores.audit : stores;
  const r = await log.verify();
  if (!r.ok) {
    return { ...r, exitCode: 1, message: `audit chain BROKEN at entry ${r.brokenAt}: ${r.reason} (${r.count} entries read)` };
  }
  const ok = `audit chain OK: ${r.count} ${r.count === 1 ? 'entry' : 'entries'}, head ${r.headHash}`;
  const anchor = options.anchor;
  if (!anchor) return { ...r, exitCode: 0, message: ok };
  if (anchor.seq === 0) return { ...r, exitCode: 0, message: `${ok}; anchor (empty log) holds`, anchor: { seq: 0, ok: true } };
  const [entry] = anchor.seq <= r.count ? await log.list({ afterSeq: anchor.seq - 1, limit: 1 }) : [];
  if (!entry || entry.seq !== anchor.seq) {
    return {
      ...r,
      ok: false,
      exitCode: 1,
      anchor: { seq: anchor.seq, ok: false },
      reason: `the anchored entry ${anchor.seq} is missing: the log ends at entry ${r.count} (entries were cut off)`,
      message: `audit log TRUNCATED: the anchored entry ${anchor.seq} is missing, the log ends at entry ${r.count}`,
    };
  }
  if (entry.hash !== anchor.hash) {
    return {
      ...r,
      ok: false,
      exitCode: 1,
      anchor: { seq: anchor.seq, ok: false },
      reason: `entry ${anchor.seq} has hash ${entry.hash}, the anchor says ${anchor.hash} (the log was rewritten)`,
      message: `audit log REWRITTEN: entry ${anchor.seq} no longer has the anchored hash`,
    };
  }
  return { ...r, exitCode: 0, message: `${ok}; anchor at entry ${anchor.seq} holds`, anchor: { seq: anchor.seq, ok: true } };
}
