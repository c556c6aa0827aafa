import { ModelConfigSchema, TENANT_ID_PATTERN } from '@llmrr/core';
import { z } from 'zod';
import { IsoDateTimeSchema } from './iso-date-time.js';

const positiveInt = z.number().int().positive();

/** The latest instant a JS Date holds (8.64e15 ms, the year 275760): a key's `expiresAt` past it is a 400. */
const MAX_DATE_MS = 8_640_000_000_000_000;
const epochMs = positiveInt.max(MAX_DATE_MS, `must be at most ${MAX_DATE_MS} (the latest instant a date holds)`);

/**
 * The most USD a budget holds: `Number.MAX_SAFE_INTEGER` nano-USD (about 9 million USD). Core counts budgets in
 * whole nano-USD: above that a number no longer holds every whole nano-USD, and past about 1.8e299 USD the count
 * is Infinity (the remaining budget then reads NaN).
 */
const MAX_BUDGET_USD = Number.MAX_SAFE_INTEGER / 1e9;

export const AdminLimitsSchema = z.strictObject({
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
  maxConcurrency: positiveInt.optional(),
});

export const AdminBudgetSchema = z.strictObject({
  amountUsd: z.number().nonnegative().max(MAX_BUDGET_USD, `must be at most ${MAX_BUDGET_USD} (Number.MAX_SAFE_INTEGER nano-USD)`),
  period: z.enum(['day', 'week', 'month', 'total']).default('month'),
});

const tier = z.enum(['basic', 'pro', 'enterprise']);
const preferences = z.looseObject({ strategy: z.string().min(1).optional(), clientStrategies: z.union([z.boolean(), z.array(z.string().min(1))]).optional() });

/** `POST /admin/tenants`. */
export const AdminTenantCreateSchema = z.strictObject({
  id: z.string().regex(TENANT_ID_PATTERN, 'must be 1-64 letters, digits, ".", "_" or "-", not only dots').optional(),
  name: z.string().min(1),
  tier: tier.optional(),
  allowedModels: z.array(z.string().min(1)).optional(),
  models: z.array(ModelConfigSchema).optional(),
  preferences: preferences.optional(),
  limits: AdminLimitsSchema.optional(),
  budget: AdminBudgetSchema.optional(),
  disabled: z.boolean().optional(),
});

/** `PATCH /admin/tenants/:id` (`null` clears a field). */
export const AdminTenantPatchSchema = z.strictObject({
  name: z.string().min(1).optional(),
  tier: tier.optional(),
  allowedModels: z.array(z.string().min(1)).nullable().optional(),
  models: z.array(ModelConfigSchema).nullable().optional(),
  preferences: preferences.optional(),
  limits: AdminLimitsSchema.nullable().optional(),
  budget: AdminBudgetSchema.nullable().optional(),
  disabled: z.boolean().optional(),
});

/** `POST /admin/tenants/:id/keys`. */
export const AdminKeyCreateSchema = z.strictObject({
  name: z.string().min(1),
  limits: AdminLimitsSchema.optional(),
  /** Epoch ms or an ISO date-time with `Z` or an offset. */
  expiresAt: z.union([epochMs, IsoDateTimeSchema]).optional(),
});

/** `PATCH /admin/keys/:id` (`null` clears the limits or the expiry). */
export const AdminKeyPatchSchema = z.strictObject({
  name: z.string().min(1).optional(),
  limits: AdminLimitsSchema.nullable().optional(),
  /** Epoch ms or an ISO date-time with `Z` or an offset; `null` for no expiry. */
  expiresAt: z.union([epochMs, IsoDateTimeSchema]).nullable().optional(),
});

/** `PUT /admin/tenants/:id/limits` and `/budget`: the new value, or `null` to remove. */
export const AdminLimitsPutSchema = AdminLimitsSchema.nullable();
export const AdminBudgetPutSchema = AdminBudgetSchema.nullable();
