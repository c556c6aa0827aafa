import { createHash } from 'node:crypto';
import { LLMError } from '../errors/llm-error.js';
import { canonicalJson } from './canonical-json.js';
import type { AuditEntry, AuditInput, AuditVerifyResult } from './types.js';

/** `prevHash` of the first entry. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** The hashed content of an entry: every field but `hash`, absent optionals as null. */
export function auditHashInput(e: Omit<AuditEntry, 'hash'>): string {
  return canonicalJson({
    seq: e.seq,
    ts: e.ts,
    actor: e.actor,
    action: e.action,
    target: e.target ?? null,
    details: e.details ?? null,
    ip: e.ip ?? null,
    prevHash: e.prevHash,
  });
}

export function computeAuditHash(e: Omit<AuditEntry, 'hash'>): string {
  return createHash('sha256').update(auditHashInput(e), 'utf8').digest('hex');
}

/**
 * The next entry after `prev` (or the first). `details` goes through a JSON round trip first, so what
 * is hashed is exactly what the database will give back.
 */
export function buildAuditEntry(input: AuditInput, prev: { seq: number; hash: string } | undefined, ts: number): AuditEntry {
  const base: Omit<AuditEntry, 'hash'> = {
    seq: (prev?.seq ?? 0) + 1,
    ts,
    actor: input.actor,
    action: input.action,
    prevHash: prev?.hash ?? AUDIT_GENESIS_HASH,
  };
  if (input.target !== undefined) base.target = input.target;
  if (input.details !== undefined) base.details = JSON.parse(JSON.stringify(input.details)) as Record<string, unknown>;
  if (input.ip !== undefined) base.ip = input.ip;
  return { ...base, hash: computeAuditHash(base) };
}

/** Checks a chain fed in seq order, page by page. */
export class AuditChainVerifier {
  private count = 0;
  private prevHash = AUDIT_GENESIS_HASH;
  private expectedSeq = 1;
  private failure: { brokenAt: number; reason: string } | undefined;

  /** Returns false once the chain is broken (stop feeding). */
  feed(e: AuditEntry): boolean {
    if (this.failure) return false;
    this.count += 1;
    if (!(e.seq >= 1)) {
      this.failure = { brokenAt: e.seq, reason: `entry ${e.seq} has a sequence number below 1 (entries start at 1; it was written outside the log)` };
    } else if (e.seq !== this.expectedSeq) {
      this.failure = { brokenAt: e.seq, reason: `expected seq ${this.expectedSeq}, found ${e.seq} (entries missing or reordered)` };
    } else if (e.prevHash !== this.prevHash) {
      this.failure = { brokenAt: e.seq, reason: `prevHash does not match the hash of entry ${e.seq - 1}` };
    } else {
      // An entry that cannot be hashed (details nested deeper than the stack goes: no entry the log wrote) was edited.
      let hash: string | undefined;
      try {
        hash = computeAuditHash(e);
      } catch {
        this.failure = { brokenAt: e.seq, reason: `entry ${e.seq} cannot be hashed (its content is not what the log writes: it was modified)` };
      }
      if (hash !== undefined && hash !== e.hash) this.failure = { brokenAt: e.seq, reason: `hash does not match the entry's content (entry ${e.seq} was modified)` };
    }
    if (this.failure) return false;
    this.prevHash = e.hash;
    this.expectedSeq += 1;
    return true;
  }

  result(): AuditVerifyResult {
    if (this.failure) return { ok: false, count: this.count, ...this.failure, headHash: this.prevHash };
    return { ok: true, count: this.count, headHash: this.prevHash };
  }
}

export function validateAuditInput(input: AuditInput): void {
  const bad = (param: string, message: string) => ({ param, message });
  const problems = [
    typeof input.actor !== 'string' || input.actor.length === 0 || input.actor.length > 200 ? bad('actor', 'must be a non-empty string (max 200)') : undefined,
    typeof input.action !== 'string' || input.action.length === 0 || input.action.length > 200 ? bad('action', 'must be a non-empty string (max 200)') : undefined,
    input.target !== undefined && typeof input.target !== 'string' ? bad('target', 'must be a string') : undefined,
    input.ip !== undefined && typeof input.ip !== 'string' ? bad('ip', 'must be a string') : undefined,
    input.details !== undefined && (typeof input.details !== 'object' || input.details === null || Array.isArray(input.details)) ? bad('details', 'must be an object') : undefined,
  ].filter((p) => p !== undefined);
  const first = problems[0];
  if (first) throw auditInputError(first.param, first.message);
}

function auditInputError(param: string, message: string): LLMError {
  return new LLMError({ code: 'invalid_request', message: `Invalid audit entry: ${param} ${message}`, param });
}
