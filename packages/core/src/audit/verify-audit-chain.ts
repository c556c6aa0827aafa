import type { AuditLog, AuditVerifyResult } from './types.js';

export interface AuditChainReport extends AuditVerifyResult {
  /** One line for a terminal, e.g. `audit chain OK: 42 entries, head 3f2a…`. */
  message: string;
  /** Process exit code for `llmrr audit verify`: 0 ok, 1 broken. */
  exitCode: 0 | 1;
}

/** What `llmrr audit verify` runs: verifies the chain of `stores.audit` (or an AuditLog) and words the result. */
export async function verifyAuditChain(stores: { audit: AuditLog } | AuditLog): Promise<AuditChainReport> {
  const log = 'audit' in stores ? stores.audit : stores;
  const r = await log.verify();
  if (r.ok) {
    return { ...r, exitCode: 0, message: `audit chain OK: ${r.count} ${r.count === 1 ? 'entry' : 'entries'}, head ${r.headHash}` };
  }
  return { ...r, exitCode: 1, message: `audit chain BROKEN at entry ${r.brokenAt}: ${r.reason} (${r.count} entries read)` };
}
