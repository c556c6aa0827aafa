/**
 * `LLMError`'s wire shape: `toWire(requestId)` for an answer's body; `toJSON()` (what `JSON.stringify` calls, with
 * the property key as its argument) gives it without a request id, whatever the key.
 */
import { describe, expect, it } from 'vitest';
import { LLMRouter } from '../router/llm-router.js';
import { LLMError } from './llm-error.js';

describe('LLMError wire shape', () => {
  it('toWire(requestId) names the request', () => {
    const error = new LLMError({ code: 'invalid_request', message: 'bad', param: 'messages' });
    expect(error.toWire('req_1')).toEqual({ error: { type: error.type, code: 'invalid_request', message: 'bad', param: 'messages', request_id: 'req_1' } });
    expect(error.toWire().error.request_id).toBeNull();
  });

  it('JSON.stringify does not put the property key in request_id', () => {
    const error = new LLMError({ code: 'invalid_request', message: 'bad', param: 'messages' });
    expect(JSON.parse(JSON.stringify({ error })).error.error.request_id).toBeNull();
    expect(JSON.parse(JSON.stringify([error]))[0].error.request_id).toBeNull();
    expect(JSON.parse(JSON.stringify(error))).toEqual(error.toWire());
  });

  it('a failed batch item logged with JSON.stringify claims no request id', async () => {
    const router = new LLMRouter({ models: [{ name: 'm', engine: 'mock', options: { failures: [{ code: 'authentication', times: 1 }] } }] });
    try {
      const [item] = await router.batch(['hi']);
      expect(item?.ok).toBe(false);
      expect(JSON.parse(JSON.stringify(item)).error.error).toMatchObject({ code: 'authentication', request_id: null });
    } finally {
      await router.close();
    }
  });
});
