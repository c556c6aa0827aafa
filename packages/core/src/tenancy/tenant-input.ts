import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { LimitsSchema, ModelConfigSchema } from '../config/schema.js';
import { formatPath } from '../config/validate.js';
import { LLMError } from '../errors/llm-error.js';
import type { ApiKey, ApiKeyInput, ApiKeyPatch, Tenant, TenantInput, TenantPatch } from './types.js';

/**
 * A tenant id: 1-64 of A-Z a-z 0-9 . _ -, not only dots (`.` and `..` are URL dot segments: a path naming the
 * tenant, `/admin/tenants/..`, would never reach it).
 */
export const TENANT_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9._-]{1,64}$/;

/** Why `TENANT_ID_PATTERN` refuses an id (the message of the schemas that check it). */
export const TENANT_ID_RULE = 'must be 1-64 characters of A-Z a-z 0-9 . _ -, not only dots';

const BudgetSchema = z
  .object({
    amountUsd: z.number().nonnegative().finite(),
    period: z.enum(['day', 'week', 'month', 'total']),
  })
  .strict();

const PreferencesSchema = z
  .object({ strategy: z.string().min(1).optional(), clientStrategies: z.union([z.boolean(), z.array(z.string().min(1))]).optional() })
  .catchall(z.unknown());
const ModelList = z.array(z.string().min(1).max(200)).max(1000);

export const TenantInputSchema = z
  .object({
    id: z.string().regex(TENANT_ID_PATTERN, TENANT_ID_RULE).optional(),
    name: z.string().trim().min(1).max(200),
    tier: z.enum(['basic', 'pro', 'enterprise']).optional(),
    allowedModels: ModelList.optional(),
    models: z.array(ModelConfigSchema).optional(),
    preferences: PreferencesSchema.optional(),
    limits: LimitsSchema.optional(),
    budget: BudgetSchema.optional(),
    disabled: z.boolean().optional(),
  })
  .strict();

export const TenantPatchSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    tier: z.enum(['basic', 'pro', 'enterprise']).optional(),
    allowedModels: ModelList.nullable().optional(),
    models: z.array(ModelConfigSchema).nullable().optional(),
    preferences: PreferencesSchema.optional(),
    limits: LimitsSchema.nullable().optional(),
    budget: BudgetSchema.nullable().optional(),
    disabled: z.boolean().optional(),
  })
  .strict();

/** The latest instant a JS Date holds (8.64e15 ms): a key's `expiresAt` past it is refused. */
const MAX_DATE_MS = 8_640_000_000_000_000;
const ExpiresAtSchema = z.number().int().positive().max(MAX_DATE_MS, `must be at most ${MAX_DATE_MS} (the latest instant a date holds)`);

export const ApiKeyInputSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    limits: LimitsSchema.optional(),
    expiresAt: ExpiresAtSchema.optional(),
  })
  .strict();

export const ApiKeyPatchSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    limits: LimitsSchema.nullable().optional(),
    expiresAt: ExpiresAtSchema.nullable().optional(),
  })
  .strict();

/** Parses with a zod schema or throws LLMError `invalid_request` naming the first bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const param = first ? formatPath(first.path) : '';
  throw new LLMError({
    code: 'invalid_request',
    message: `Invalid ${what}: ${r.error.issues.map((i) => `${formatPath(i.path) || '(root)'}: ${i.message}`).join('; ')}`,
    param: param || undefined,
    details: r.error.issues,
  });
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

/** A validated, complete tenant from create input. */
export function tenantFromInput(input: TenantInput, now: number): Tenant {
  const v = parseInput(TenantInputSchema, input, 'tenant');
  return stripUndefined({
    id: v.id ?? newId('ten'),
    name: v.name,
    tier: v.tier ?? 'basic',
    allowedModels: v.allowedModels,
    models: v.models,
    preferences: v.preferences ?? {},
    limits: v.limits,
    budget: v.budget,
    disabled: v.disabled ?? false,
    createdAt: now,
    updatedAt: now,
  });
}

/** The tenant after a validated patch (`null` clears a field). */
export function applyTenantPatch(tenant: Tenant, patch: TenantPatch, now: number): Tenant {
  const v = parseInput(TenantPatchSchema, patch, 'tenant patch');
  const next: Tenant = { ...tenant, updatedAt: now };
  if (v.name !== undefined) next.name = v.name;
  if (v.tier !== undefined) next.tier = v.tier;
  if (v.disabled !== undefined) next.disabled = v.disabled;
  if (v.preferences !== undefined) next.preferences = v.preferences;
  if (v.allowedModels !== undefined) next.allowedModels = v.allowedModels ?? undefined;
  if (v.models !== undefined) next.models = v.models ?? undefined;
  if (v.limits !== undefined) next.limits = v.limits ?? undefined;
  if (v.budget !== undefined) next.budget = v.budget ?? undefined;
  return stripUndefined(next);
}

export function parseApiKeyInput(input: ApiKeyInput): ApiKeyInput {
  return stripUndefined(parseInput(ApiKeyInputSchema, input, 'API key'));
}

/** The key after a validated patch (`null` clears limits or expiry). The caller checks revocation. */
export function applyApiKeyPatch(key: ApiKey, patch: ApiKeyPatch): ApiKey {
  const v = parseInput(ApiKeyPatchSchema, patch, 'API key patch');
  const next: ApiKey = { ...key };
  if (v.name !== undefined) next.name = v.name;
  if (v.limits !== undefined) next.limits = v.limits ?? undefined;
  if (v.expiresAt !== undefined) next.expiresAt = v.expiresAt ?? undefined;
  return stripUndefined(next);
}

/** `conflict` for a change to a revoked key (revocation is final). */
export function revokedKeyConflict(keyId: string, action: string): LLMError {
  return new LLMError({ code: 'conflict', message: `API key "${keyId}" is revoked and cannot be ${action}`, param: 'keyId' });
}

/** A rotation whose `expectedHash` no longer matches: the key was rotated since it was read. */
export function rotatedKeyConflict(keyId: string): LLMError {
  return new LLMError({ code: 'conflict', message: `API key "${keyId}" was rotated by another call since it was read; read it again to rotate it`, param: 'keyId' });
}

export function stripUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

export function notFound(what: string, id: string, param?: string): LLMError {
  return new LLMError({ code: 'not_found', message: `${what} "${id}" not found`, param });
}
