import { describe, expect, it } from 'vitest';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import { codeForOpenAIError, readOpenAIErrorFields } from './map-openai-error.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

/**
 * A provider's answer that the deployment's model id is unknown is the operator's misconfiguration, never the
 * caller's request: `provider_model_not_found`, and the call falls over to the next deployment. Several providers
 * send it as a 400, not a 404 (real bodies: DeepSeek "Model Not Exist", Mistral "Invalid model: x" type
 * invalid_model code 1500, Together code model_not_available); as `invalid_request` the router would stop (no
 * fallback) and the gateway answer the client a 400. The 404 forms are in openai-compatible-engine.test.ts.
 */
const primary = useOpenAIWireServer();
const backup = useOpenAIWireServer({ script: { text: 'from backup' } });
const hello = { messages: [{ role: 'user' as const, content: 'hi' }] };

describe.each([
  ['Azure OpenAI (404 DeploymentNotFound)', { status: 404, body: { error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } } }],
  ['Fireworks (404, param model)', { status: 404, body: { error: { message: 'Model not found, inaccessible, and/or not deployed', param: 'model', code: 'NOT_FOUND', type: 'error' } } }],
  ['DeepSeek', { status: 400, body: { error: { message: 'Model Not Exist', type: 'invalid_request_error', param: null, code: 'invalid_request_error' } } }],
  ['Mistral', { status: 400, body: { object: 'error', message: 'Invalid model: mistral-larg-latest', type: 'invalid_model', param: null, code: '1500' } }],
  [
    'Together',
    {
      status: 400,
      body: { error: { message: 'Unable to access non-serverless model meta-llama/Llama-3-8b-chat-hf. Please visit https://api.together.ai/models/meta-llama/Llama-3-8b-chat-hf to create and start a new dedicated endpoint for the model.', type: 'invalid_request_error', param: null, code: 'model_not_available' } },
    },
  ],
])('%s answering a wrong upstream model id', (_name, error) => {
  it('is the deployment\'s misconfiguration: provider_model_not_found, and the call falls over to the backup', async () => {
    primary.server.setScript({ error });
    const { router } = openAIWireRouter(
      [
        { name: 'primary', engine: 'openai-compatible', model: 'typo', baseURL: primary.server.baseURL },
        { name: 'backup', engine: 'openai-compatible', model: 'ok', baseURL: backup.server.baseURL },
      ],
      { retries: { max: 0 } },
    );
    try {
      const answer = await router.generate(hello).then((r) => r.deployment, (e: { code?: string }) => `error ${e.code}`);
      expect(answer).toBe('backup');
    } finally {
      await router.close();
    }
  });
});

describe('the classification of an answer body', () => {
  const code = (body: unknown, status: number) => codeForOpenAIError(readOpenAIErrorFields(body), status);

  it('names the unknown-model answers (Azure, Fireworks, DeepSeek, Mistral, Together) and leaves other 400s to the status', () => {
    expect(code({ error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' } }, 404)).toBe('provider_model_not_found');
    expect(code({ error: { message: 'Model not found, inaccessible, and/or not deployed', param: 'model' } }, 404)).toBe('provider_model_not_found');
    expect(code({ error: { message: 'Model Not Exist', type: 'invalid_request_error' } }, 400)).toBe('provider_model_not_found');
    expect(code({ object: 'error', message: 'Invalid model: mistral-larg', type: 'invalid_model', code: '1500' }, 400)).toBe('provider_model_not_found');
    expect(code({ error: { message: 'Unable to access non-serverless model x', code: 'model_not_available' } }, 400)).toBe('provider_model_not_found');
    expect(code({ error: { message: 'Model meta-llama/Llama-3-8b not found' } }, 404)).toBe('provider_model_not_found');
    expect(code({ error: { message: 'Invalid model parameters: temperature must be <= 2', type: 'invalid_request_error' } }, 400)).toBe(undefined);
    expect(code({ error: { message: 'The model does not exist: use a model id', type: 'invalid_request_error' } }, 400)).toBe(undefined);
    expect(code({ detail: 'Not Found' }, 404)).toBe(undefined);
  });

  // A proxy in front of the provider, or a baseURL ending in /v1/models: a wrong endpoint, not a wrong model id.
  it('a 404 for a wrong URL whose path contains /models/ is not an unknown model', () => {
    expect(code({ error: { message: 'The requested URL /v1/models/chat/completions was not found on this server' } }, 404)).toBe(undefined);
    expect(code({ error: { message: 'Route POST:/api/models/chat/completions not found' } }, 404)).toBe(undefined);
  });
});
