import type { ChatMessage } from '../../spec/index.js';
import { parsePredictiveConfig } from '../../semantic-cache/predictive/predictive-config.js';
import { normalizeRequest } from '../request.js';
import { whenSettled } from '../stream-result.js';
import type { GenerateOptions, PromptOrRequest, RouterResult, RouterStream } from '../types.js';
import { RouterPrefetch, type PrefetchHost, type RouterPrefetchOptions } from './router-prefetch.js';

/** A router whose live calls feed its prefetcher (see `withPrefetch`). */
export interface PrefetchingRouter<R extends PrefetchHost> {
  readonly router: R;
  /** Undefined when `cache.predictive` is absent or not enabled (calls then just pass through). */
  readonly prefetch: RouterPrefetch | undefined;
  generate(input: PromptOrRequest, options?: GenerateOptions): Promise<RouterResult>;
  chat(messages: ChatMessage[], options?: GenerateOptions): Promise<RouterResult>;
  stream(input: PromptOrRequest, options?: GenerateOptions): RouterStream;
  /** Closes the prefetcher it made (not the router, nor a prefetcher the router owns). */
  close(): Promise<void>;
}

/**
 * Turns on predictive caching for a router from its config (`cache.predictive`, or `options.config`; off
 * unless `enabled: true`):
 * calls made through the returned object are learned from and followed by prefetches while the router is
 * idle. Calls made on the router directly still count as live traffic (the idle signal comes from the
 * router's events), but are not learned from until the router calls `RouterPrefetch.observe` itself.
 */
export function withPrefetch<R extends PrefetchHost & { stream(input: PromptOrRequest, options?: GenerateOptions): RouterStream }>(
  router: R,
  options: RouterPrefetchOptions = {},
): PrefetchingRouter<R> {
  // A router that runs its own prefetcher (it calls `observe` itself) is used as it is.
  const builtIn = (router as { prefetch?: unknown }).prefetch;
  const own = builtIn instanceof RouterPrefetch ? builtIn : undefined;
  const prefetch =
    own ??
    (options.config !== undefined
      ? parsePredictiveConfig(options.config).enabled
        ? new RouterPrefetch(router, options)
        : undefined
      : RouterPrefetch.fromRouter(router, options));
  const learn = (input: PromptOrRequest, o: GenerateOptions, result: RouterResult): void => {
    if (!prefetch || own) return;
    let request;
    try {
      request = normalizeRequest(input, o);
    } catch {
      return; // the router accepted it; nothing to learn from a request this function cannot read
    }
    void prefetch.observe(request, o, result);
  };
  const generate = async (input: PromptOrRequest, o: GenerateOptions = {}): Promise<RouterResult> => {
    const result = await router.generate(input, o);
    learn(input, o, result);
    return result;
  };
  return {
    router,
    prefetch,
    generate,
    chat: (messages, o) => generate({ messages }, o),
    stream(input, o = {}) {
      const s = router.stream(input, o);
      // (Without making the stream run: its consumer decides when it does.)
      whenSettled(
        s.result,
        (result) => learn(input, o, result),
        () => {},
      );
      return s;
    },
    close: async () => {
      if (!own) await prefetch?.close();
    },
  };
}
