import { z } from 'zod';
import { parseInput, stripUndefined } from '../tenancy/tenant-input.js';
import type { UsageEntry, UsageEntryInput, UsageQuery } from './types.js';

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative().finite();
const text = z.string().min(1).max(500);

export const UsageEntryInputSchema = z
  .object({
    requestId: text,
    tenantId: text,
    keyId: text.optional(),
    model: text,
    deployment: text.optional(),
    provider: text.optional(),
    endpoint: text.optional(),
    inputTokens: count,
    outputTokens: count,
    cachedInputTokens: count.optional(),
    costUsd: z.number().nonnegative().finite(),
    latencyMs: ms,
    ttftMs: ms.optional(),
    status: z.enum(['success', 'error', 'aborted']),
    errorCode: text.optional(),
    cacheHit: z.boolean().optional(),
    stream: z.boolean().optional(),
    createdAt: z.number().int().nonnegative().optional(),
  })
  .strict();

/** Validates (LLMError `invalid_request` naming the field) and fills defaults. */
export function normalizeUsageEntry(input: UsageEntryInput, now: number): UsageEntry {
  const v = parseInput(UsageEntryInputSchema, input, 'usage entry');
  return stripUndefined({
    ...v,
    cachedInputTokens: v.cachedInputTokens ?? 0,
    cacheHit: v.cacheHit ?? false,
    stream: v.stream ?? false,
    createdAt: v.createdAt ?? now,
  });
}

export const MAX_QUERY_LIMIT = 1000;

export function queryLimit(q: Pick<UsageQuery, 'limit' | 'offset'>): { limit: number; offset: number } {
  const l = Math.trunc(q.limit ?? 100);
  const limit = Number.isNaN(l) ? 100 : Math.min(Math.max(l, 1), MAX_QUERY_LIMIT);
  const o = Math.trunc(q.offset ?? 0);
  const offset = Number.isNaN(o) ? 0 : Math.min(Math.max(o, 0), Number.MAX_SAFE_INTEGER);
  return { limit, offset };
}

export const DAY_MS = 86_400_000;
