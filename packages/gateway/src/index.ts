export { createGateway } from './gateway.js';
export type {
  Gateway,
  GatewayAuthOptions,
  GatewayEnv,
  GatewayLimits,
  GatewayLogEntry,
  GatewayMetricsOptions,
  GatewayOptions,
  GatewayRouter,
  GatewayRoutingConfig,
  GatewayStores,
  RouterEmbedResult,
} from './types.js';
export type { GatewayCorsOptions } from './cors/public-cors.js';
export { TenantModelSync, isTenantRouter } from './tenants/tenant-model-sync.js';
export { checkIdUnused as checkTenantIdUnused } from './routes/admin-routes.js';
export { REDACTED_SECRET, redactModelSecrets } from './routes/admin-secrets.js';
export { budgetPeriodToCarry, carryAfterUpdate, carryBudgetSpend } from './routes/budget-period-change.js';
export { auditValue, tenantChanges as tenantAuditChanges } from './routes/audit-changes.js';
export type { TenantRouter } from './tenants/tenant-model-sync.js';
export { GatewayMetrics } from './metrics/gateway-metrics.js';
export type { RequestObservation } from './metrics/gateway-metrics.js';
export { wireJsonSchema, wireJsonSchemas, wireSchemas } from './schemas/json-schema.js';
export type { WireSchemaName } from './schemas/json-schema.js';
export * from './schemas/openai-chat.js';
export * from './schemas/openai-completions.js';
export * from './schemas/openai-responses.js';
export * from './schemas/openai-embeddings.js';
export * from './schemas/anthropic-messages.js';
export * from './schemas/llmrr-extension.js';
export * from './schemas/legacy-api.js';
export * from './schemas/feedback.js';
export * from './schemas/admin.js';
export type { ErrorBody } from './http/error-body.js';
export { redactUpstreamMessage } from './http/redact-upstream.js';
