import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelConfigSchema, type ModelConfigInput } from '../../config/schema.js';
import type { GenerateRequest, ToolDefinition } from '../../spec/index.js';
import { collect } from '../../test/async.test-helpers.js';
import { startOpenAIWireServer, type OpenAIWireScript, type OpenAIWireServer, type RecordedRequest } from '../../test/openai-wire-server.js';
import { defaultEngineContext } from '../types.js';
import { OpenAICompatibleEngine } from './index.js';

// Penalties and parallel_tool_calls against a wire server that answers as the real services do to those fields.
// - OpenAI's o1-mini / o1-preview (and every o-series model) answer 400 unsupported_parameter to the penalties
//   (community.openai.com/t/developer-role-not-accepted-for-o1-o1-mini-o3-mini/1110750/7: "xxx_penalty" No for
//   o3-mini, o1, o1-preview, o1-mini; lobehub/lobehub#5053: o1-preview "'frequency_penalty' is not supported with this
//   model");
// - an Azure deployment behind which an o-series model runs (its name is free: the docs' own example is
//   `model: my-gpt4o-deployment`) answers the same;
// - Azure deployments of gpt-4o 2024-05-13 and gpt-4 0613 answer 400 "Unrecognized request argument supplied:
//   parallel_tool_calls" to the field, true or false (Azure/azure-sdk-for-net#45719, microsoft/semantic-kernel#10113,
//   pydantic/pydantic-ai#169).

const unsupported = (param: string): OpenAIWireScript => ({
  error: { status: 400, message: `Unsupported parameter: '${param}' is not supported with this model.`, type: 'invalid_request_error', param, code: 'unsupported_parameter' },
});

/** Refuses the penalties (any value) on every request: a reasoning model behind the endpoint. */
function reasoningModel(request: RecordedRequest): OpenAIWireScript {
  const body = request.body as Record<string, unknown>;
  for (const param of ['frequency_penalty', 'presence_penalty']) if (Object.hasOwn(body, param)) return unsupported(param);
  return { text: 'ok' };
}

/** Azure gpt-4o 2024-05-13: refuses parallel_tool_calls, whatever its value. */
function azureOldGpt4o(request: RecordedRequest): OpenAIWireScript {
  const body = request.body as Record<string, unknown>;
  if (Object.hasOwn(body, 'parallel_tool_calls')) {
    return { error: { status: 400, message: 'Unrecognized request argument supplied: parallel_tool_calls', type: 'invalid_request_error', param: null, code: null } };
  }
  return { text: 'ok' };
}

let server: OpenAIWireServer;
beforeAll(async () => {
  server = await startOpenAIWireServer();
});
afterAll(() => server.close());

const engineFor = (config: Partial<ModelConfigInput>) =>
  new OpenAICompatibleEngine(ModelConfigSchema.parse({ name: 'd', apiKey: 'k', baseURL: server.baseURL, ...config }), defaultEngineContext({ env: {} }));
const weather: ToolDefinition = { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
const hi = (extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ messages: [{ role: 'user', content: 'hi' }], ...extra });

/** generate and stream both answer (no error part). */
async function answers(config: Partial<ModelConfigInput>, request: GenerateRequest): Promise<void> {
  const engine = engineFor(config);
  const result = await engine.generate(request);
  expect(result.text).toBe('ok');
  const parts = await collect(engine.stream(request));
  expect(parts.find((p) => p.type === 'error')).toBeUndefined();
  expect(parts.at(-1)?.type).toBe('finish');
}

describe('openai-compatible: penalties and parallel_tool_calls as real providers answer them', () => {
  it('o1-mini and o1-preview on openai are not sent the penalties (they refuse them like every o-series model), and the call answers', async () => {
    server.setScript(reasoningModel);
    for (const model of ['o1-mini', 'o1-preview-2024-09-12']) {
      await answers({ preset: 'openai', model }, hi({ frequencyPenalty: 0.5, presencePenalty: 0.5 }));
    }
  });

  it('an azure-openai deployment named freely with the reasoning capability (reasoning_effort is sent to it) is not sent the penalties, and the call answers', async () => {
    server.setScript(reasoningModel);
    await answers(
      { preset: 'azure-openai', model: 'my-reasoning-deployment', capabilities: ['streaming', 'tools', 'json', 'reasoning'] },
      hi({ frequencyPenalty: 0.5, reasoning: { effort: 'low' } }),
    );
  });

  it('parallelToolCalls true (the provider default, same as absent) is not put on the wire: an Azure gpt-4o 2024-05-13 deployment refuses the field, and the call answers', async () => {
    server.setScript(azureOldGpt4o);
    await answers({ preset: 'azure-openai', model: 'my-gpt4o-deployment' }, hi({ tools: [weather], parallelToolCalls: true }));
  });

  it("parallelToolCalls false with toolChoice 'none' on an o-series model is no warning: no tool can be called, so none several times", async () => {
    server.setScript({ text: 'ok' });
    const result = await engineFor({ preset: 'openai', model: 'o3' }).generate(hi({ tools: [weather], toolChoice: 'none', parallelToolCalls: false }));
    expect((server.requests.at(-1)!.body as { tool_choice?: unknown }).tool_choice).toBe('none');
    expect(result.warnings).toBeUndefined();
  });

  it('the search models (gpt-4o-search-preview, gpt-4o-mini-search-preview) are not sent the penalties, and the call answers', async () => {
    // OpenAI: 400 "Model incompatible request arguments supplied: frequency_penalty, presence_penalty, temperature,
    // top_p" (vercel/ai#5647, ChatGPTNextWeb/NextChat#6569, lobehub/lobehub#7586).
    server.setScript((request) => {
      const body = request.body as Record<string, unknown>;
      const refused = ['frequency_penalty', 'presence_penalty'].filter((k) => Object.hasOwn(body, k));
      return refused.length > 0
        ? { error: { status: 400, message: `Model incompatible request arguments supplied: ${refused.join(', ')}`, type: 'invalid_request_error', param: null, code: null } }
        : { text: 'ok' };
    });
    for (const model of ['gpt-4o-search-preview', 'gpt-4o-mini-search-preview-2025-03-11', 'gpt-5-search-api']) {
      await answers({ preset: 'openai', model }, hi({ frequencyPenalty: 0.5, presencePenalty: 0.5 }));
    }
  });

  it('a fine-tuned o-series model (ft:o4-mini-...) is matched by its base model: no penalties, reasoning_effort sent', async () => {
    server.setScript(reasoningModel);
    const model = 'ft:o4-mini-2025-04-16:acme::AbC123';
    await answers({ preset: 'openai', model }, hi({ frequencyPenalty: 0.5, reasoning: { effort: 'high' } }));
    expect((server.requests.at(-1)!.body as { reasoning_effort?: unknown }).reasoning_effort).toBe('high');
  });

  it('a freely named deployment sent reasoning_effort minimal (only gpt-5 takes it) is not sent parallel_tool_calls, and says so', async () => {
    server.setScript({ text: 'ok' });
    const result = await engineFor({ preset: 'azure-openai', model: 'prod-chat', capabilities: ['streaming', 'tools', 'json', 'reasoning'] }).generate(
      hi({ tools: [weather], parallelToolCalls: false, reasoning: { effort: 'minimal' } }),
    );
    const body = server.requests.at(-1)!.body as Record<string, unknown>;
    expect(body.reasoning_effort).toBe('minimal');
    expect(body).not.toHaveProperty('parallel_tool_calls');
    expect(result.warnings?.map((w) => w.field)).toEqual(['parallelToolCalls']);
  });

  it('the same deployment without the reasoning capability, and gpt-oss on vLLM with it, keep the penalties', async () => {
    server.setScript({ text: 'ok' });
    await engineFor({ preset: 'azure-openai', model: 'my-gpt4o-deployment' }).generate(hi({ frequencyPenalty: 0.5 }));
    expect((server.requests.at(-1)!.body as Record<string, unknown>).frequency_penalty).toBe(0.5);
    await engineFor({ preset: 'vllm', model: 'openai/gpt-oss-20b', capabilities: ['streaming', 'tools', 'json', 'reasoning'] }).generate(hi({ frequencyPenalty: 0.5 }));
    expect((server.requests.at(-1)!.body as Record<string, unknown>).frequency_penalty).toBe(0.5);
  });
});
