import { z } from 'zod';
import { parseInput } from '../tenancy/tenant-input.js';
import type { UsageEntry, UsageEntryInput, UsageQuery, UsageStatus } from './types.js';

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
    cacheWriteInputTokens: count.optional(),
    cacheWrite1hInputTokens: count.optional(),
    costUsd: z.number().nonnegative().finite(),
    latencyMs: ms,
    ttftMs: ms.optional(),
    status: z.enum(['success', 'error', 'aborted']),
    errorCode: text.optional(),
    cacheHit: z.boolean().optional(),
    stream: z.boolean().optional(),
    createdAt: z.number().int().nonnegative().optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    // The 1-hour writes are a part of all writes (an omitted total counts as 0).
    if ((v.cacheWrite1hInputTokens ?? 0) > (v.cacheWriteInputTokens ?? 0)) {
      ctx.addIssue({ code: 'custom', path: ['cacheWrite1hInputTokens'], message: 'must be at most cacheWriteInputTokens (the 1-hour part of the cache writes)' });
    }
  });

const KEYS = new Set(Object.keys(UsageEntryInputSchema.shape));
/** The ledger's statuses (`UsageStatus`), for checking a `status` filter. */
export const USAGE_STATUSES: readonly UsageStatus[] = ['success', 'error', 'aborted'];
const STATUSES = new Set<unknown>(USAGE_STATUSES);
const isText = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= 500;
const isOptText = (v: unknown) => v === undefined || isText(v);
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const isMs = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isOptBool = (v: unknown) => v === undefined || typeof v === 'boolean';

/**
 * The common case without the schema (one ledger row per request): plain checks that accept only what
 * the schema accepts. Anything else goes through the schema, which words the error.
 */
function plainValid(e: UsageEntryInput): boolean {
  if (typeof e !== 'object' || e === null) return false;
  for (const k in e) if (!KEYS.has(k)) return false;
  return (
    isText(e.requestId) &&
    isText(e.tenantId) &&
    isText(e.model) &&
    isOptText(e.keyId) &&
    isOptText(e.deployment) &&
    isOptText(e.provider) &&
    isOptText(e.endpoint) &&
    isOptText(e.errorCode) &&
    isCount(e.inputTokens) &&
    isCount(e.outputTokens) &&
    (e.cachedInputTokens === undefined || isCount(e.cachedInputTokens)) &&
    (e.cacheWriteInputTokens === undefined || isCount(e.cacheWriteInputTokens)) &&
    (e.cacheWrite1hInputTokens === undefined || (isCount(e.cacheWrite1hInputTokens) && e.cacheWrite1hInputTokens <= (e.cacheWriteInputTokens ?? 0))) &&
    isMs(e.costUsd) &&
    isMs(e.latencyMs) &&
    (e.ttftMs === undefined || isMs(e.ttftMs)) &&
    STATUSES.has(e.status) &&
    isOptBool(e.cacheHit) &&
    isOptBool(e.stream) &&
    (e.createdAt === undefined || isCount(e.createdAt))
  );
}

/** Validates (LLMError `invalid_request` naming the field) and fills defaults. */
export function normalizeUsageEntry(input: UsageEntryInput, now: number): UsageEntry {
  const v = plainValid(input) ? input : (parseInput(UsageEntryInputSchema, input, 'usage entry') as UsageEntryInput);
  const e: UsageEntry = {
    requestId: v.requestId,
    tenantId: v.tenantId,
    model: v.model,
    inputTokens: v.inputTokens,
    outputTokens: v.outputTokens,
    cachedInputTokens: v.cachedInputTokens ?? 0,
    cacheWriteInputTokens: v.cacheWriteInputTokens ?? 0,
    cacheWrite1hInputTokens: v.cacheWrite1hInputTokens ?? 0,
    costUsd: v.costUsd,
    latencyMs: v.latencyMs,
    status: v.status,
    cacheHit: v.cacheHit ?? false,
    stream: v.stream ?? false,
    createdAt: v.createdAt ?? now,
  };
  if (v.keyId !== undefined) e.keyId = v.keyId;
  if (v.deployment !== undefined) e.deployment = v.deployment;
  if (v.provider !== undefined) e.provider = v.provider;
  if (v.endpoint !== undefined) e.endpoint = v.endpoint;
  if (v.ttftMs !== undefined) e.ttftMs = v.ttftMs;
  if (v.errorCode !== undefined) e.errorCode = v.errorCode;
  return e;
}

/** The most rows one list call of a store returns (usage entries, tenants, audit entries). */
export const MAX_QUERY_LIMIT = 1000;

/**
 * A query's `limit` (default 100) and `offset` as the databases take them: the limit capped at MAX_QUERY_LIMIT
 * and raised to 1, silently (the gateway's admin API refuses a limit outside 1..1000 with a 400 instead).
 */
export function queryLimit(q: Pick<UsageQuery, 'limit' | 'offset'>): { limit: number; offset: number } {
  const l = Math.trunc(q.limit ?? 100);
  const limit = Number.isNaN(l) ? 100 : Math.min(Math.max(l, 1), MAX_QUERY_LIMIT);
  const o = Math.trunc(q.offset ?? 0);
  const offset = Number.isNaN(o) ? 0 : Math.min(Math.max(o, 0), Number.MAX_SAFE_INTEGER);
  return { limit, offset };
}

export const DAY_MS = 86_400_000;
