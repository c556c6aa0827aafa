export type {
  ApiKey,
  ApiKeyInput,
  ApiKeyPatch,
  AuthFailureReason,
  AuthResult,
  BudgetPeriod,
  BudgetReservation,
  BudgetReserveRequest,
  BudgetState,
  BudgetStore,
  CreatedApiKey,
  Limits,
  ListOptions,
  PendingCharge,
  RateAcquireOptions,
  RateDecision,
  RateLease,
  RateLimitInfo,
  RateLimitKind,
  RateLimiter,
  RateScope,
  RateScopeKind,
  RevokedApiKey,
  RotateKeyOptions,
  Tenant,
  TenantBudget,
  TenantInput,
  TenantPatch,
  TenantPreferences,
  TenantStore,
  TenantTier,
  UnsettledCharge,
} from './types.js';
export { API_KEY_SECRET_PREFIX, hashApiKeySecret, isWellFormedApiKeySecret } from './api-key-secret.js';
export { budgetPeriodWindow } from './budget-period.js';
export type { PeriodWindow } from './budget-period.js';
export { MemoryRateLimiter, type MemoryRateLimiterOptions } from './memory-rate-limiter.js';
export { rateLimitHeaders } from './rate-limit-headers.js';
export { TENANT_ID_PATTERN } from './tenant-input.js';
