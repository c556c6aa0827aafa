import type { AnthropicWireServerOptions } from '@llmrr/core/test';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ModelInput } from './harness.js';
import { clearRequests, servedGateway, type SdkGateway, type SdkGatewayOptions } from './served-gateway.js';
import { startWireUpstreams, type WireUpstreams } from './wire-upstreams.js';

/** The deployments of the cross-provider SDK tests: name, engine, upstream model and key per wire format. */
const DEPLOYMENTS = {
  claude: { engine: 'anthropic', model: 'claude-test', apiKey: 'ak', baseURL: (u: WireUpstreams) => u.anthropic.url },
  gpt: { engine: 'openai-compatible', model: 'gpt-test', apiKey: 'k', baseURL: (u: WireUpstreams) => u.openai.baseURL },
  gem: { engine: 'gemini', model: 'gemini-2.5-flash', apiKey: 'gk', baseURL: (u: WireUpstreams) => u.gemini.url },
} as const;

/**
 * A deployment named `name` on its wire upstream, with chat, streaming and tools: `claude` (Anthropic wire, model
 * `claude-test`), `gpt` (OpenAI wire, `gpt-test`) or `gem` (Gemini wire, `gemini-2.5-flash`); `extra` adds or
 * overrides fields (a second deployment on the same upstream: `{ name: 'claude-count', ... }`).
 */
export function wireDeployment(upstreams: WireUpstreams, name: keyof typeof DEPLOYMENTS, extra: Partial<ModelInput> = {}): ModelInput {
  const { engine, model, apiKey, baseURL } = DEPLOYMENTS[name];
  return { name, engine, baseURL: baseURL(upstreams), model, apiKey, capabilities: ['chat', 'streaming', 'tools'], ...extra } as ModelInput;
}

export interface WireGatewayOptions extends Omit<SdkGatewayOptions, 'models' | 'upstreams'> {
  /** More options for the Anthropic-wire upstream (its key stays `ak`). */
  anthropic?: AnthropicWireServerOptions;
}

/**
 * Starts the three wire upstreams (wire-upstreams.ts) and serves a gateway over `models(upstreams)`: the shared
 * setup of the cross-provider `*.sdk.test.ts` files. Call it in `beforeAll`; `gw.close()` closes the upstreams too.
 */
export async function servedOverWireUpstreams(models: (upstreams: WireUpstreams) => ModelInput[], options: WireGatewayOptions = {}): Promise<{ upstreams: WireUpstreams; gw: SdkGateway }> {
  const { anthropic, ...rest } = options;
  const upstreams = await startWireUpstreams(anthropic);
  const all = [upstreams.anthropic, upstreams.openai, upstreams.gemini];
  try {
    return { upstreams, gw: await servedGateway({ ...rest, models: models(upstreams), upstreams: all }) };
  } catch (e) {
    await Promise.all(all.map((u) => u.close()));
    throw e;
  }
}

export interface OverWireUpstreams {
  /** The served gateway. */
  readonly gw: SdkGateway;
  /** The three wire upstreams; their `requests` are cleared after each test. */
  readonly upstreams: WireUpstreams;
}

/**
 * The setup of a file whose tests share one gateway over the three wire upstreams (servedOverWireUpstreams with these
 * models and options): registers the hooks that serve it in `beforeAll`, close it and the upstreams in `afterAll`,
 * and clear the upstreams' requests in `afterEach`. Call it at the top of the file; read `gw` and `upstreams` in tests.
 */
export function overWireUpstreams(models: (upstreams: WireUpstreams) => ModelInput[], options: WireGatewayOptions = {}): OverWireUpstreams {
  let served: { upstreams: WireUpstreams; gw: SdkGateway } | undefined;
  beforeAll(async () => {
    served = await servedOverWireUpstreams(models, options);
  });
  afterAll(() => served?.gw.close());
  afterEach(() => {
    const u = served?.upstreams;
    clearRequests(u?.anthropic, u?.openai, u?.gemini);
  });
  const started = () => {
    if (!served) throw new Error('overWireUpstreams(): the gateway is served in beforeAll; read gw and upstreams in tests');
    return served;
  };
  return {
    get gw() {
      return started().gw;
    },
    get upstreams() {
      return started().upstreams;
    },
  };
}
