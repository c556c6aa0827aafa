import type { AnthropicWireServer } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { clearRequests, type SdkGateway } from './served-gateway.js';
import { servedOverWireUpstreams, wireDeployment } from './served-over-wire-upstreams.js';

export interface ClaudeOverWire {
  /** The served gateway (its one model: `claude`). */
  readonly gw: SdkGateway;
  /** The Anthropic-wire upstream behind `claude`; its `requests` are cleared after each test. */
  readonly claudeUp: AnthropicWireServer;
}

/**
 * The setup of a file whose tests need one `claude` deployment over the wire upstreams (wireDeployment): registers
 * the hooks that serve the gateway in `beforeAll`, close it and the upstreams in `afterAll`, and clear the
 * Anthropic upstream's requests in `afterEach`. Call it at the top of the file; read `gw` and `claudeUp` in tests.
 */
export function claudeOverWire(): ClaudeOverWire {
  let served: { gw: SdkGateway; claudeUp: AnthropicWireServer } | undefined;
  beforeAll(async () => {
    const { gw, upstreams } = await servedOverWireUpstreams((u) => [wireDeployment(u, 'claude')]);
    served = { gw, claudeUp: upstreams.anthropic };
  });
  afterAll(() => served?.gw.close());
  afterEach(() => clearRequests(served?.claudeUp));
  const started = () => {
    if (!served) throw new Error('claudeOverWire(): the gateway is served in beforeAll; read gw and claudeUp in tests');
    return served;
  };
  return {
    get gw() {
      return started().gw;
    },
    get claudeUp() {
      return started().claudeUp;
    },
  };
}
