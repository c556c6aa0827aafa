import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAIWireRouter } from '../../test/wire-router.test-helpers.js';
import { codeForOpenAIError } from './map-openai-error.js';
import { useOpenAIWireServer } from './openai-wire.test-helpers.js';

/**
 * OpenAI answers a STREAMED request to a model that needs a verified organisation with a 400
 * (`unsupported_value`, param `stream`): "Your organization must be verified to stream this model...". The same
 * deployment serves the same model without `stream` (and every other model) fine, so the refusal is `unsupported`:
 * the router falls over to the next deployment, and the refusal does not count against the deployment's circuit
 * (classify.ts `countsAgainstDeployment`). Refused the model itself ("...verified to use the model", a 403), the
 * deployment can serve none of its requests: `permission_denied`, which falls over and counts.
 */
const VERIFY =
  'Your organization must be verified to stream this model. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization.';

let primary: Server;
let primaryUrl: string;
const seen: Array<'stream' | 'json'> = [];

beforeAll(async () => {
  primary = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}') as { stream?: boolean };
      if (body.stream === true) {
        seen.push('stream');
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: VERIFY, type: 'invalid_request_error', param: 'stream', code: 'unsupported_value' } }));
        return;
      }
      seen.push('json');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          model: 'o3',
          choices: [{ index: 0, message: { role: 'assistant', content: 'from primary' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
        }),
      );
    });
  });
  await new Promise<void>((r) => primary.listen(0, '127.0.0.1', r));
  primaryUrl = `http://127.0.0.1:${(primary.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise<void>((r) => primary.close(() => r()));
});

const backup = useOpenAIWireServer({ script: { text: 'from backup' } });
const hello = { messages: [{ role: 'user' as const, content: 'hi' }] };

describe('"organization must be verified to stream" (a 400 on `stream` only)', () => {
  it('falls over without opening the circuit of a deployment that serves the same model unstreamed', async () => {
    const { router } = openAIWireRouter(
      [
        { name: 'primary', engine: 'openai-compatible', model: 'o3', baseURL: primaryUrl },
        { name: 'backup', engine: 'openai-compatible', model: 'o3', baseURL: backup.server.baseURL },
      ],
      { retries: { max: 0 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } },
    );
    const streamed: string[] = [];
    for (let i = 0; i < 2; i++) {
      const stream = router.stream(hello);
      for await (const _ of stream) void _;
      streamed.push(await stream.result.then((r) => r.deployment, (e: { code?: string }) => `error ${e.code}`));
    }
    expect(streamed).toEqual(['backup', 'backup']);
    expect(seen).toEqual(['stream', 'stream']);
    expect(router.stats()['primary']?.circuit).toBe('closed');
    const answer = await router.generate(hello);
    expect(answer.deployment).toBe('primary');
    expect(answer.text).toBe('from primary');
  });

  it('is `unsupported` to stream the model, `permission_denied` to use it at all', () => {
    expect(codeForOpenAIError({ message: VERIFY, type: 'invalid_request_error', code: 'unsupported_value', param: 'stream' }, 400)).toBe('unsupported');
    const useModel = 'Your organization must be verified to use the model `o3`. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization.';
    expect(codeForOpenAIError({ message: useModel, type: 'invalid_request_error' }, 403)).toBe('permission_denied');
  });
});
