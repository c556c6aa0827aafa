import { computeCost, type DeploymentInfo, type ModelPrice } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { convertMessagesRequest } from '../anthropic/to-generate-request.js';
import { convertChatRequest } from '../openai/to-generate-request.js';
import type { AnthropicMessagesRequest } from '../schemas/anthropic-messages.js';
import type { OpenAIChatRequest } from '../schemas/openai-chat.js';
import { estimateInputTokens, estimateMaxCostUsd, promptCacheMark } from './estimate.js';

// Review of 2a58373: a marked system prompt is now ONE core system message whose marks ride on `parts`
// (not on the message's `cacheControl`, not on array `content`). The budget reservation looks for marks only
// on the request, messages, array content parts, tools and providerOptions (estimate.ts promptCacheMark), so
// a request whose only marks are on its system prompt is reserved at the plain input rate while Anthropic
// charges the whole prompt as cache writes (1.25x for 5 minutes, 2x for 1 hour). Before 2a58373 the system
// segments carried the mark as the message's `cacheControl`, and the mark was found.

const LONG = 'A long and stable system prompt that is worth caching. '.repeat(60);
const claude: ModelPrice = { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 };

describe('the budget reservation sees marks on a system prompt', () => {
  it('/v1/messages: a 1-hour mark on the last system block is found (promptCacheMark is "1h")', () => {
    const body = {
      model: 'claude',
      max_tokens: 50,
      system: [
        { type: 'text', text: 'x-billing-header: cc_version=2.1' },
        { type: 'text', text: LONG, cache_control: { type: 'ephemeral', ttl: '1h' } },
      ],
      messages: [{ role: 'user', content: 'Who pays the fees?' }],
    } as unknown as AnthropicMessagesRequest;
    const { request } = convertMessagesRequest(body);
    expect(promptCacheMark(request)).toBe('1h');
  });

  it('/v1/messages: the reservation of a request marked only on its system prompt bounds what Anthropic can charge', () => {
    const body = {
      model: 'claude',
      max_tokens: 50,
      system: [{ type: 'text', text: LONG, cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: 'Who pays the fees?' }],
    } as unknown as AnthropicMessagesRequest;
    const { request } = convertMessagesRequest(body);
    const tokens = estimateInputTokens(request);
    const deployment = { name: 'claude', price: claude, config: {} } as unknown as DeploymentInfo;
    const reserved = estimateMaxCostUsd(request, [deployment], 4096, tokens);
    // Anthropic may write the whole prompt to the cache at 3.75 per 1M tokens.
    const worst = computeCost({ inputTokens: tokens, cacheWriteInputTokens: tokens, outputTokens: 50, totalTokens: tokens + 50 }, claude).totalUsd;
    expect(reserved).toBeGreaterThanOrEqual(worst);
  });

  it('chat: a mark on a system message content part is found (promptCacheMark is "5m")', () => {
    const body = {
      model: 'claude',
      messages: [
        { role: 'system', content: [{ type: 'text', text: LONG, cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'Today is Thursday.' }] },
        { role: 'user', content: 'Who pays the fees?' },
      ],
    } as unknown as OpenAIChatRequest;
    const { request } = convertChatRequest(body);
    expect(promptCacheMark(request)).toBe('5m');
  });
});
