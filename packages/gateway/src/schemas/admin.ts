import { ModelConfigSchema } from '@llmrr/core';
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const AdminLimitsSchema = z.strictObject({
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
  maxConcurrency: positiveInt.optional(),
});

export const AdminBudgetSchema = z.strictObject({
  amountUsd: z.number().nonnegative(),
  period: z.enum(['day', 'week', 'month', 'total']).default('month'),
});

const tier = z.enum(['basic', 'pro', 'enterprise']);
const preferences = z.looseObject({ strategy: z.string().min(1).optional() });

/** `POST /admin/tenants`. */
export const AdminTenantCreateSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"').optional(),
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
  /** Epoch ms or ISO date. */
  expiresAt: z.union([z.number().int().positive(), z.iso.datetime({ offset: true })]).optional(),
});

/** `PATCH /admin/keys/:id` (`null` clears the limits or the expiry). */
export const AdminKeyPatchSchema = z.strictObject({
  name: z.string().min(1).optional(),
  limits: AdminLimitsSchema.nullable().optional(),
  /** Epoch ms or ISO date; `null` for no expiry. */
  expiresAt: z.union([z.number().int().positive(), z.iso.datetime({ offset: true })]).nullable().optional(),
});

/** `PUT /admin/tenants/:id/limits` and `/budget`: the new value, or `null` to remove. */
export const AdminLimitsPutSchema = AdminLimitsSchema.nullable();
export const AdminBudgetPutSchema = AdminBudgetSchema.nullable();
