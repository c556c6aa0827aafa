import { LLMError } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import { validateBody } from '../http/validate.js';
import { responseEcho } from '../responses/response-object.js';
import { isWellFormedResponsesRequest } from './check-openai-responses.js';
import { OpenAIResponsesRequestSchema, type OpenAIResponsesRequest } from './openai-responses.js';

// Review of a33dd2b (the Responses fast check covers tools, tool_choice, json_schema formats and reasoning).
// The contract (schemas/fast-check.ts): a fast check is true ONLY when the schema accepts the value and outputs
// it unchanged, since validateBody then hands the body on as it is. Each test below fails on a33dd2b.

/** What the gateway hands on (the fast check first, as validateBody does) and what the schema alone makes. */
function bothPaths(body: unknown): { gateway: OpenAIResponsesRequest; schema: OpenAIResponsesRequest } {
  return { gateway: validateBody(OpenAIResponsesRequestSchema, body), schema: OpenAIResponsesRequestSchema.parse(body) as OpenAIResponsesRequest };
}

describe('review a33dd2b: the Responses fast check on agent bodies', () => {
  it('the response echoes the Vercel AI SDK structured-output format with the same bytes whichever path validated the body', () => {
    // @ai-sdk/openai 3.0.139 (dist/index.mjs, the Responses model's getArgs) builds text.format as
    // { type, strict, name, description, schema }; zod's copy puts the shape's keys first (type, name, schema,
    // description, strict), so before a33dd2b (schema path) the answer echoed
    // {"type":"json_schema","name":"response","schema":{...},"strict":true} and now echoes the client's order.
    const json = JSON.stringify({
      model: 'bench',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'A recipe.' }] }],
      text: { format: { type: 'json_schema', strict: true, name: 'response', description: undefined, schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } } },
    });
    const { gateway, schema } = bothPaths(JSON.parse(json));
    expect(JSON.stringify(responseEcho(gateway).text)).toBe(JSON.stringify(responseEcho(schema).text));
  });

  // In-process callers only (JSON.parse never makes these), but the fast check claims the schema's exact verdict.
  const refusedBySchema: Array<[string, Record<string, unknown>, string]> = [
    ['tool parameters with an own constructor function', { type: 'object', constructor: class Params {} }, 'tools.0.parameters'],
    ['tool parameters with an enumerable symbol key', { type: 'object', [Symbol('s')]: 1 }, 'tools.0.parameters'],
  ];
  for (const [name, parameters, param] of refusedBySchema) {
    it(`${name}: the schema refuses it (not a record), so the fast check must not accept it`, () => {
      const body = { model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f', parameters }] };
      expect(OpenAIResponsesRequestSchema.safeParse(body).success).toBe(false);
      let error: unknown;
      try {
        validateBody(OpenAIResponsesRequestSchema, body);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LLMError);
      expect(error).toMatchObject({ code: 'invalid_request' });
      expect((error as LLMError).param?.startsWith(param)).toBe(true);
      expect(isWellFormedResponsesRequest(body)).toBe(false);
    });
  }

  it('a json_schema format schema with an own constructor function: the schema refuses it, the fast check must too', () => {
    const body = { model: 'm', input: 'hi', text: { format: { type: 'json_schema', name: 'r', schema: { type: 'object', constructor: Date } } } };
    expect(OpenAIResponsesRequestSchema.safeParse(body).success).toBe(false);
    expect(isWellFormedResponsesRequest(body)).toBe(false);
  });

  it('null-prototype tool parameters (accepted by both): the gateway hands on what the schema outputs, a plain object', () => {
    const parameters = Object.assign(Object.create(null) as object, { type: 'object' });
    const { gateway, schema } = bothPaths({ model: 'm', input: 'hi', tools: [{ type: 'function', name: 'f', parameters }] });
    expect(Object.getPrototypeOf(schema.tools![0]!.parameters)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(gateway.tools![0]!.parameters)).toBe(Object.getPrototypeOf(schema.tools![0]!.parameters));
  });
});
