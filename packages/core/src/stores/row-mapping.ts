import type { AuditEntry } from '../audit/types.js';
import type { UsageEntry, UsageStatus } from '../metering/types.js';
import { nanoToUsd } from '../tenancy/money.js';
import type { ApiKey, Tenant, TenantTier } from '../tenancy/types.js';

/** Row shapes shared by the SQLite and PostgreSQL stores (snake_case columns). */
export type Row = Record<string, unknown>;

/** JSON columns are text in SQLite and jsonb in PostgreSQL. */
function json<T>(v: unknown): T | undefined {
  if (v === null || v === undefined) return undefined;
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

/** bigint columns come back as strings from pg. */
function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

function optNum(v: unknown): number | undefined {
  return v === null || v === undefined ? undefined : num(v);
}

function optStr(v: unknown): string | undefined {
  return v === null || v === undefined ? undefined : String(v);
}

function bool(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 't';
}

export function jsonOrNull(v: unknown): string | null {
  return v === undefined || v === null ? null : JSON.stringify(v);
}

export function rowToTenant(r: Row): Tenant {
  const t: Tenant = {
    id: String(r.id),
    name: String(r.name),
    tier: String(r.tier) as TenantTier,
    preferences: json<Tenant['preferences']>(r.preferences) ?? {},
    disabled: bool(r.disabled),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
  const allowed = json<string[]>(r.allowed_models);
  if (allowed) t.allowedModels = allowed;
  const models = json<NonNullable<Tenant['models']>>(r.models);
  if (models) t.models = models;
  const limits = json<NonNullable<Tenant['limits']>>(r.limits);
  if (limits) t.limits = limits;
  const budget = json<NonNullable<Tenant['budget']>>(r.budget);
  if (budget) t.budget = budget;
  return t;
}

export function rowToApiKey(r: Row): ApiKey {
  const k: ApiKey = {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    name: String(r.name),
    prefix: String(r.prefix),
    hash: String(r.hash),
    createdAt: num(r.created_at),
  };
  const limits = json<NonNullable<ApiKey['limits']>>(r.limits);
  if (limits) k.limits = limits;
  const rotatedAt = optNum(r.rotated_at);
  if (rotatedAt !== undefined) k.rotatedAt = rotatedAt;
  const revokedAt = optNum(r.revoked_at);
  if (revokedAt !== undefined) k.revokedAt = revokedAt;
  const expiresAt = optNum(r.expires_at);
  if (expiresAt !== undefined) k.expiresAt = expiresAt;
  const lastUsedAt = optNum(r.last_used_at);
  if (lastUsedAt !== undefined) k.lastUsedAt = lastUsedAt;
  return k;
}

/** Key columns prefixed `k_` and tenant columns prefixed `t_` in one joined row. */
export function splitJoinedRow(r: Row): { key: Row; tenant: Row | undefined } {
  const key: Row = {};
  const tenant: Row = {};
  for (const [col, v] of Object.entries(r)) {
    if (col.startsWith('k_')) key[col.slice(2)] = v;
    else if (col.startsWith('t_')) tenant[col.slice(2)] = v;
  }
  return { key, tenant: tenant.id === null || tenant.id === undefined ? undefined : tenant };
}

export function rowToUsage(r: Row): UsageEntry {
  const e: UsageEntry = {
    requestId: String(r.request_id),
    tenantId: String(r.tenant_id),
    model: String(r.model),
    inputTokens: num(r.input_tokens),
    outputTokens: num(r.output_tokens),
    cachedInputTokens: num(r.cached_input_tokens),
    cacheWriteInputTokens: num(r.cache_write_input_tokens),
    cacheWrite1hInputTokens: num(r.cache_write_1h_input_tokens),
    costUsd: nanoToUsd(num(r.cost_nano)),
    latencyMs: num(r.latency_ms),
    status: String(r.status) as UsageStatus,
    cacheHit: bool(r.cache_hit),
    stream: bool(r.stream),
    createdAt: num(r.created_at),
  };
  const opt = { keyId: optStr(r.key_id), deployment: optStr(r.deployment), provider: optStr(r.provider), endpoint: optStr(r.endpoint), errorCode: optStr(r.error_code) };
  for (const [k, v] of Object.entries(opt)) if (v !== undefined) (e as unknown as Row)[k] = v;
  const ttft = optNum(r.ttft_ms);
  if (ttft !== undefined) e.ttftMs = ttft;
  return e;
}

export function rowToAudit(r: Row): AuditEntry {
  const e: AuditEntry = {
    seq: num(r.seq),
    ts: num(r.ts),
    actor: String(r.actor),
    action: String(r.action),
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
  };
  const target = optStr(r.target);
  if (target !== undefined) e.target = target;
  const details = json<Record<string, unknown>>(r.details);
  if (details !== undefined) e.details = details;
  const ip = optStr(r.ip);
  if (ip !== undefined) e.ip = ip;
  return e;
}
