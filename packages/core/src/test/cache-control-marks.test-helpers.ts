/**
 * A request with a prompt-cache breakpoint (`cacheControl`) on every place that can carry one, for engines
 * that must ignore them (test-only: `*.test-helpers.ts` is left out of the build).
 */
import type { CacheControl, GenerateRequest } from '../spec/messages.js';

const m: CacheControl = { type: 'ephemeral', ttl: '1h' };

/** Marks on the request, a tool, and a system, user (and both its parts), assistant and tool message. */
export const markedEverywhere: GenerateRequest = {
  cacheControl: m,
  tools: [{ name: 'calc', parameters: { type: 'object' }, cacheControl: m }],
  messages: [
    { role: 'system', content: 'S', cacheControl: m },
    { role: 'user', content: [{ type: 'text', text: 'look', cacheControl: m }, { type: 'image', data: 'iVBORw0KGgo=', mediaType: 'image/png', cacheControl: m }], cacheControl: m },
    { role: 'assistant', content: null, toolCalls: [{ id: 't1', name: 'calc', arguments: '{}' }], cacheControl: m },
    { role: 'tool', toolCallId: 't1', content: '4', cacheControl: m },
  ],
};

/** A deep copy of `request` with every `cacheControl` left out. */
export function withoutCacheControl(request: GenerateRequest): GenerateRequest {
  return JSON.parse(JSON.stringify(request), (key, value: unknown) => (key === 'cacheControl' ? undefined : value)) as GenerateRequest;
}
