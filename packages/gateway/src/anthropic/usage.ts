import type { Usage } from '@llmrr/core';
import type { AnthropicMessage, AnthropicStreamEvent } from '../schemas/anthropic-messages.js';

type MessageUsage = AnthropicMessage['usage'];
type DeltaUsage = Extract<AnthropicStreamEvent, { type: 'message_delta' }>['usage'];

/**
 * Anthropic's `input_tokens` counts only the input that was neither read from nor written to the prompt cache;
 * ours (`Usage.inputTokens`) counts all of it. So `input_tokens` = input - cache reads - cache writes (never
 * below 0), beside `cache_read_input_tokens` and `cache_creation_input_tokens`: the three add up to our input,
 * and a client that adds them, as Anthropic's clients do, counts every token once.
 */
function split(usage: Usage): { input: number; read: number; write: number; write1h: number } {
  const read = usage.cachedInputTokens ?? 0;
  const write = usage.cacheWriteInputTokens ?? 0;
  const write1h = Math.min(usage.cacheWrite1hInputTokens ?? 0, write);
  return { input: Math.max(0, usage.inputTokens - read - write), read, write, write1h };
}

/** Whether the deployment reported anything about its prompt cache (else the cache fields are left out, as before). */
function reportsCache(usage: Usage): boolean {
  return usage.cachedInputTokens !== undefined || usage.cacheWriteInputTokens !== undefined;
}

/**
 * A `message`'s usage: the cache fields as Anthropic sends them (@anthropic-ai/sdk 1.14 Usage), with the writes
 * by TTL in `cache_creation`, when the deployment reported its cache; else `input_tokens` and `output_tokens` only.
 */
export function toAnthropicUsage(usage: Usage): MessageUsage {
  const { input, read, write, write1h } = split(usage);
  const out: MessageUsage = { input_tokens: input, output_tokens: usage.outputTokens };
  if (!reportsCache(usage)) return out;
  out.cache_creation_input_tokens = write;
  out.cache_read_input_tokens = read;
  out.cache_creation = { ephemeral_5m_input_tokens: write - write1h, ephemeral_1h_input_tokens: write1h };
  return out;
}

/**
 * `message_delta`'s usage: the whole answer's totals (@anthropic-ai/sdk 1.14 MessageDeltaUsage, which has no
 * `cache_creation` breakdown; the SDK's stream takes each number present over message_start's).
 */
export function toAnthropicDeltaUsage(usage: Usage): DeltaUsage {
  const { input, read, write } = split(usage);
  const out: DeltaUsage = { output_tokens: usage.outputTokens, input_tokens: input };
  if (!reportsCache(usage)) return out;
  out.cache_creation_input_tokens = write;
  out.cache_read_input_tokens = read;
  return out;
}
