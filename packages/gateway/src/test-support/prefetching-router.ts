import { PREFETCH_METADATA_KEY, type RouterEvents } from '@llmrr/core';
import type { GatewayRouter } from '../types.js';

/**
 * A router's event surface: `end(requestId, tenant, costUsd, text?)` emits a prefetch's `request:end` (its answer's text
 * `text`, default "ok").
 */
export function prefetchingRouter() {
  const listeners: Array<(e: RouterEvents['request:end']) => void> = [];
  const router = {
    prefetch: {},
    on: (event: string, fn: (e: RouterEvents['request:end']) => void) => {
      if (event === 'request:end') listeners.push(fn);
      return () => void listeners.splice(listeners.indexOf(fn), 1);
    },
  } as unknown as GatewayRouter;
  const end = (requestId: string, tenant: string, costUsd: number, text = 'ok') => {
    const result = {
      requestId,
      deployment: 'chat',
      model: 'chat-model',
      provider: 'mock',
      cached: false,
      text,
      usage: { inputTokens: 10, outputTokens: 5, totalTokens: 15 },
      cost: { inputUsd: costUsd / 2, outputUsd: costUsd / 2, totalUsd: costUsd },
      latencyMs: 3,
    };
    for (const fn of listeners) fn({ requestId, metadata: { [PREFETCH_METADATA_KEY]: true, tenant }, result } as unknown as RouterEvents['request:end']);
  };
  return { router, end };
}
