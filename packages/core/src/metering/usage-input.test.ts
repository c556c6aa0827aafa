import { describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import type { UsageEntryInput } from './types.js';
import { UsageEntryInputSchema, normalizeUsageEntry } from './usage-input.js';

const base: UsageEntryInput = { requestId: 'r', tenantId: 't', model: 'm', inputTokens: 1, outputTokens: 2, costUsd: 0.5, latencyMs: 3, status: 'success' };

describe('normalizeUsageEntry', () => {
  it('fills defaults and keeps only the fields given (no undefined keys)', () => {
    expect(normalizeUsageEntry(base, 42)).toEqual({ ...base, cachedInputTokens: 0, cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0, cacheHit: false, stream: false, createdAt: 42 });
    expect(normalizeUsageEntry({ ...base, inputTokens: 9, cacheWriteInputTokens: 6, cacheWrite1hInputTokens: 2 }, 1)).toMatchObject({ cacheWriteInputTokens: 6, cacheWrite1hInputTokens: 2 });
    const full = normalizeUsageEntry({ ...base, keyId: 'k', deployment: 'd', provider: 'p', endpoint: '/e', ttftMs: 1.5, errorCode: 'timeout', cachedInputTokens: 4, cacheHit: true, stream: true, createdAt: 7 }, 42);
    expect(full).toMatchObject({ keyId: 'k', ttftMs: 1.5, createdAt: 7 });
    expect(Object.values(normalizeUsageEntry({ ...base, keyId: undefined }, 1))).not.toContain(undefined);
  });

  it('names the 1-hour cache writes when they exceed all cache writes', () => {
    const err = (() => {
      try {
        normalizeUsageEntry({ ...base, inputTokens: 20, cacheWriteInputTokens: 4, cacheWrite1hInputTokens: 5 }, 1);
      } catch (e) {
        return e;
      }
    })();
    expect(LLMError.isInstance(err) && [err.code, err.param]).toEqual(['invalid_request', 'cacheWrite1hInputTokens']);
    expect((err as Error).message).toMatch(/cacheWrite1hInputTokens: must be at most cacheWriteInputTokens/);
  });

  it('accepts and refuses exactly what the schema does (the plain checks are only a fast path)', () => {
    const cases: Array<Record<string, unknown>> = [
      {},
      { inputTokens: -1 },
      { inputTokens: 1.5 },
      { outputTokens: Number.MAX_SAFE_INTEGER + 2 },
      { costUsd: Number.NaN },
      { costUsd: Infinity },
      { latencyMs: -0.1 },
      { ttftMs: 'x' },
      { status: 'ok' },
      { requestId: '' },
      { requestId: 'x'.repeat(501) },
      { tenantId: undefined },
      { keyId: 5 },
      { cacheHit: 'yes' },
      { createdAt: -1 },
      { extra: 1 },
      { cachedInputTokens: 3, stream: true, errorCode: 'e' },
      { cacheWriteInputTokens: 5 },
      { cacheWriteInputTokens: 5, cacheWrite1hInputTokens: 5 },
      { cacheWriteInputTokens: 5, cacheWrite1hInputTokens: 0 },
      { cacheWriteInputTokens: 0, cacheWrite1hInputTokens: 0 },
      { cacheWriteInputTokens: 5, cacheWrite1hInputTokens: 6 },
      { cacheWrite1hInputTokens: 1 },
      { cacheWrite1hInputTokens: 0 },
      { cacheWriteInputTokens: -1 },
      { cacheWriteInputTokens: 2.5 },
      { cacheWriteInputTokens: '5' },
      { cacheWriteInputTokens: undefined, cacheWrite1hInputTokens: undefined },
      { cacheWriteInputTokens: 5, cacheWrite1hInputTokens: -1 },
      { cacheWriteInputTokens: 5, cacheWrite1hInputTokens: Number.NaN },
      { cacheWriteInputTokens: Number.MAX_SAFE_INTEGER + 2, cacheWrite1hInputTokens: 1 },
    ];
    const expected = { accepted: 0 };
    for (const c of cases) {
      const input = { ...base, ...c } as UsageEntryInput;
      const schemaOk = UsageEntryInputSchema.safeParse(input).success;
      const e = (() => {
        try {
          normalizeUsageEntry(input, 1);
          return undefined;
        } catch (err) {
          return err;
        }
      })();
      expect(e === undefined, JSON.stringify(c)).toBe(schemaOk);
      if (schemaOk) expected.accepted++;
      if (e !== undefined) expect(LLMError.isInstance(e) && e.code === 'invalid_request').toBe(true);
    }
    // Both outcomes are exercised (not everything accepted or refused by accident).
    expect(expected.accepted).toBe(8);
  });
});
