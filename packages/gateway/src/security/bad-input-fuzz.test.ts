import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, get, post, type Harness } from '../test-support/harness.js';

const ENDPOINTS = ['/v1/chat/completions', '/v1/completions', '/v1/responses', '/v1/embeddings', '/v1/messages', '/v1/feedback', '/api/quick', '/api/chat', '/api/route'];

/** Bodies that are wrong in one way each; every one must be a 4xx with an error body, never a 5xx. */
const BODIES: unknown[] = [
  null, 42, 'text', [], {}, { model: null }, { model: 7 }, { model: 'mock', messages: null }, { model: 'mock', messages: [null] },
  { model: 'mock', messages: [{}] }, { model: 'mock', messages: [{ role: 'user', content: 5 }] },
  { model: 'mock', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: null }] }] },
  { model: 'mock', messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }, { model: 'mock', messages: [{ role: 'user', content: 'x' }], max_tokens: 1e300 },
  { model: 'mock', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }, { model: 'mock', messages: [{ role: 'user', content: 'x' }], stream: 'yes' },
  { model: 'mock', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: null }] },
  { model: 'mock', messages: [{ role: 'user', content: 'x' }], llmrr: { evil: true } }, { model: 'mock', messages: [{ role: 'user', content: 'x' }], llmrr: null },
  { model: 'mock', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'json_schema', json_schema: null } },
  { model: 'mock', messages: [{ role: 'user', content: 'x' }], stop: [1, 2] }, { model: 'mock', messages: [{ role: 'user', content: 'x' }], n: 0 },
  { model: 'mock', prompt: null }, { model: 'mock', prompt: [[1, 2]] }, { model: 'mock', input: null }, { model: 'mock', input: [] }, { model: 'mock', input: [1, 2] },
  { model: 'mock', input: [{ type: 'function_call' }] }, { model: 'mock', input: [{ role: 'user', content: [null] }] }, { model: 'mock', input: [{ type: null }] },
  { model: 'mock', input: [{ role: 'user', content: [{ type: 'input_image' }] }] }, { model: 'mock', input: [{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'x' }] }] },
  { model: 'mock', input: 'x', tools: [null] }, { model: 'mock', input: 'x', tool_choice: { type: 'function' } }, { model: 'mock', input: 'x', text: { format: null } }, { model: 'mock', input: 'x', include: [5] },
  { model: 'mock', max_tokens: 5, messages: [{ role: 'assistant', content: null }] }, { model: 'mock', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] },
  { model: 'mock', max_tokens: 5, system: 7, messages: [{ role: 'user', content: 'x' }] }, { request_id: 5, score: 'good' }, { prompt: null }, { prompt: 'x', requirements: null },
  { model: '__proto__', messages: [{ role: 'user', content: 'x' }] }, { model: 'constructor', messages: [{ role: 'user', content: 'x' }] },
  JSON.parse('{"__proto__": {"polluted": true}, "model": "mock", "messages": [{"role": "user", "content": "x"}]}'),
];

describe('bad input is a 4xx naming the field on every endpoint', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('no body shape gives a 5xx or a stack trace', async () => {
    const failures: string[] = [];
    for (const path of ENDPOINTS) {
      for (const body of BODIES) {
        const res = await post(h.gateway, path, JSON.stringify(body));
        const text = await res.text();
        if (res.status >= 500 || /\n\s+at /.test(text)) failures.push(`${path} ${JSON.stringify(body)} -> ${res.status} ${text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('unknown or prototype-named strategies and fallbacks are 4xx, not 5xx', async () => {
    const msg = [{ role: 'user', content: 'x' }];
    const failures: string[] = [];
    for (const name of ['nope', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const cases: Array<[unknown, Record<string, string>]> = [
        [{ model: 'mock', messages: msg }, { 'x-llmrr-strategy': name }],
        [{ model: 'mock', messages: msg, llmrr: { strategy: name } }, {}],
        [{ model: 'auto', messages: msg, llmrr: { strategy: name } }, {}],
        [{ model: 'mock', messages: msg, llmrr: { fallbacks: [name] } }, {}],
        [{ model: name, messages: msg }, {}],
        [{ prompt: 'x', strategy: name }, {}],
      ];
      for (const [body, headers] of cases) {
        for (const path of ['/v1/chat/completions', '/api/route']) {
          const res = await post(h.gateway, path, body, headers);
          const text = await res.text();
          if (res.status >= 500 || /\n\s+at /.test(text)) failures.push(`${path} ${JSON.stringify(body)} ${JSON.stringify(headers)} -> ${res.status} ${text.slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('deeply nested JSON (arrays, objects, tool schemas, metadata) is a 4xx or accepted, never a 5xx', async () => {
    const depth = 200_000;
    const deepArray = '['.repeat(depth) + ']'.repeat(depth);
    const deepObject = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const schema = '{"type":"object","properties":{"a":'.repeat(20_000) + '{}' + '}}'.repeat(20_000);
    const msg = '[{"role":"user","content":"x"}]';
    const bodies = [
      deepArray,
      deepObject,
      `{"model":"mock","messages":${msg},"metadata":${deepObject}}`,
      `{"model":"mock","messages":[{"role":"user","content":${deepArray}}]}`,
      `{"model":"mock","messages":${msg},"tools":[{"type":"function","function":{"name":"f","parameters":${schema}}}]}`,
      `{"model":"mock","messages":${msg},"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":${schema}}}}`,
      `{"model":"mock","max_tokens":5,"messages":${msg},"tools":[{"name":"f","input_schema":${schema}}]}`,
      `{"model":"mock","max_tokens":5,"messages":[{"role":"user","content":"x"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":${deepObject}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}],"tools":[{"name":"f","input_schema":{"type":"object"}}]}`,
    ];
    const failures: string[] = [];
    for (const path of ['/v1/chat/completions', '/v1/messages']) {
      for (const body of bodies) {
        const res = await post(h.gateway, path, body);
        if (res.status >= 500) failures.push(`${path} ${body.slice(0, 60)} -> ${res.status} ${(await res.text()).slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
    const named = await post(h.gateway, '/v1/chat/completions', bodies[4]!);
    expect(named.status).toBe(400);
    expect(((await named.json()) as { error: { param: string; message: string } }).error).toMatchObject({ param: 'tools.0.function.parameters', message: expect.stringMatching(/deeper than 64 levels/) });
    const anthropic = await post(h.gateway, '/v1/messages', bodies[6]!);
    expect(anthropic.status).toBe(400);
    expect(((await anthropic.json()) as { error: { param: string } }).error.param).toBe('tools.0.input_schema');
  });

  it('malformed query parameters on GET routes are not 5xx', async () => {
    for (const path of ['/v1/models?x=%ZZ', '/api/models?%', '/api/status?limit=abc', '/v1/models/%E0%A4%A']) {
      expect((await get(h.gateway, path)).status).toBeLessThan(500);
    }
  });
});
