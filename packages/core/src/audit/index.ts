export type { AuditEntry, AuditInput, AuditLog, AuditQuery, AuditVerifyResult } from './types.js';
export { AUDIT_GENESIS_HASH, AuditChainVerifier, buildAuditEntry, computeAuditHash } from './audit-hash.js';
export { auditAnchorOf, verifyAuditChain } from './verify-audit-chain.js';
export type { AuditAnchor, AuditChainReport } from './verify-audit-chain.js';
export { AuthFailureAudit, authFailureAuditFor, closeAuthFailureAudit } from './auth-failure-audit.js';
export type { AuthFailure, AuthFailureAuditOptions } from './auth-failure-audit.js';
