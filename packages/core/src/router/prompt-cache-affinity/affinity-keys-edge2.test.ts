import { describe, expect, it } from 'vitest';
import type { GenerateRequest } from '../../spec/index.js';
import { affinityKeys } from './affinity-keys.js';

// Regressions from the review of 201538c (prompt-cache affinity review fixes): each test failed on that commit.

const TTLS = { ttlMs: 300_000, ttl1hMs: 3_600_000 };
const SYSTEM = 'You are a careful assistant. '.repeat(20);

describe('review 201538c: affinity keys', () => {
  it('bug: a request-level 5-minute mark with a 1-hour mark on the last block is remembered for an hour (the Anthropic engine sends only the automatic 5-minute breakpoint there)', async () => {
    // fitAnthropicCacheBreakpoints (anthropic-cache-control.ts:78-81): with automatic caching, the mark on the
    // last block of the last message is deleted and the automatic breakpoint (5m here) caches that prefix.
    const request: GenerateRequest = {
      cacheControl: { type: 'ephemeral' },
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: 'question 1', cacheControl: { type: 'ephemeral', ttl: '1h' } },
      ],
    };
    const keys = (await affinityKeys(request, {}, TTLS))!;
    expect(keys.remember).toHaveLength(1);
    expect(keys.remember[0]!.ttlMs).toBe(TTLS.ttlMs);
  });

  it('bug: a request-level 1-hour mark with a 5-minute mark on the last block is remembered for 5 minutes (the engine sends the automatic 1-hour breakpoint there, nothing 5-minute remains)', async () => {
    // Same rule the other way round: anthropic-cache-control.ts:78-81 deletes the block's 5m mark, and :93 keeps
    // the automatic 1h since no 5-minute mark remains; the provider caches this prefix for an hour.
    const request: GenerateRequest = {
      cacheControl: { type: 'ephemeral', ttl: '1h' },
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: 'question 1', cacheControl: { type: 'ephemeral', ttl: '5m' } },
      ],
    };
    const keys = (await affinityKeys(request, {}, TTLS))!;
    expect(keys.remember).toHaveLength(1);
    expect(keys.remember[0]!.ttlMs).toBe(TTLS.ttl1hMs);
  });

  it('bug: two different prompts get the same key: a lone surrogate and U+FFFD frame alike once hashed as UTF-8 (canonical JSON escaped it as \\ud800)', async () => {
    const ask = (text: string): GenerateRequest => ({ messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: text, cacheControl: { type: 'ephemeral' } }] });
    const lone = (await affinityKeys(ask('emoji cut in half: \uD83D'), {}, TTLS))!;
    const replacement = (await affinityKeys(ask('emoji cut in half: \uFFFD'), {}, TTLS))!;
    expect(lone.remember[0]!.key).not.toBe(replacement.remember[0]!.key);
  });
});
