import type { OpenAIWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { clearRequests, lastSentMessages, servedOverOpenAIWire, type SdkGateway, type SdkGatewayOptions } from './served-gateway.js';

export interface OpenAIOverWire {
  /** The served gateway (its one model: `gpt`, see servedOverOpenAIWire). */
  readonly gw: SdkGateway;
  /** The OpenAI-wire upstream behind `gpt`; its `requests` are cleared after each test. */
  readonly upstream: OpenAIWireServer;
  /** The messages the upstream received in its last request (there must be one). */
  sent<M = { role: string; content: unknown }>(): M[];
}

/**
 * The setup of a file whose tests need one `gpt` deployment over a local OpenAI-wire upstream (servedOverOpenAIWire
 * with these gateway options): registers the hooks that serve the gateway in `beforeAll`, close it and the upstream
 * in `afterAll`, and clear the upstream's requests in `afterEach`. Call it at the top of the file; read `gw` and
 * `upstream` in tests.
 */
export function openAIOverWire(options: Omit<SdkGatewayOptions, 'models' | 'upstreams'> = {}): OpenAIOverWire {
  let served: { gw: SdkGateway; upstream: OpenAIWireServer } | undefined;
  beforeAll(async () => {
    served = await servedOverOpenAIWire(options);
  });
  afterAll(() => served?.gw.close());
  afterEach(() => clearRequests(served?.upstream));
  const started = () => {
    if (!served) throw new Error('openAIOverWire(): the gateway is served in beforeAll; read gw and upstream in tests');
    return served;
  };
  return {
    get gw() {
      return started().gw;
    },
    get upstream() {
      return started().upstream;
    },
    sent: () => lastSentMessages(started().upstream),
  };
}
