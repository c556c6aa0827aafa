import { describe, expect, it } from 'vitest';
import type { GenerateRequest, ToolDefinition } from '../../spec/messages.js';
import { collect } from '../../test/async.test-helpers.js';
import { useAnthropicWireServer } from './anthropic-wire.test-helpers.js';

// Strict tool use (`tools[].strict`, GA on Claude Haiku 4.5, Sonnet 4.5, Opus 4.5 and later) and JSON mode's forced
// tool (its description from `responseFormat.description`, its `strict` from `responseFormat.strict`), against the
// local Anthropic wire server.

const wire = useAnthropicWireServer();
const hi: GenerateRequest['messages'] = [{ role: 'user', content: 'hi' }];
const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const tool = (extra: Partial<ToolDefinition> = {}): ToolDefinition => ({ name: 'weather', description: 'The weather', parameters: SCHEMA, ...extra });
const OLD = { model: 'claude-sonnet-4-20250514' };
const NEW = { model: 'claude-sonnet-4-5-20250929' };
const bodyTools = () => wire.lastBody().tools as Array<Record<string, unknown>>;

describe('anthropic engine: strict tool use', () => {
  it('sends strict: true and false as given to a model that takes it, with no warning', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', name: 'weather', input: { city: 'Oslo' } }] });
    const result = await wire.engine(NEW).generate({ messages: hi, tools: [tool({ strict: true }), tool({ name: 'other', strict: false })] });
    expect(result.toolCalls).toEqual([expect.objectContaining({ name: 'weather', arguments: '{"city":"Oslo"}' })]);
    expect(result).not.toHaveProperty('warnings');
    expect(bodyTools()).toEqual([
      { name: 'weather', description: 'The weather', input_schema: SCHEMA, strict: true },
      { name: 'other', description: 'The weather', input_schema: SCHEMA, strict: false },
    ]);
  });

  it('a tool without strict goes without the field', async () => {
    wire.server.enqueue({ content: 'ok' });
    await wire.engine(NEW).generate({ messages: hi, tools: [tool()] });
    expect(Object.keys(bodyTools()[0]!)).toEqual(['name', 'description', 'input_schema']);
  });

  it('to a model without strict tool use: not sent, warned by the tool\u2019s index (generate and stream)', async () => {
    wire.server.enqueue({ content: 'ok' }, { content: 'ok' });
    const request: GenerateRequest = { messages: hi, tools: [tool(), tool({ name: 'strict_one', strict: true }), tool({ name: 'lax', strict: false })] };
    const result = await wire.engine(OLD).generate(request);
    expect(result.warnings).toEqual([{ code: 'setting_not_sent', field: 'tools.1.strict', message: expect.stringContaining('claude-sonnet-4-20250514 is not known to take strict tool use') }]);
    expect(bodyTools().map((t) => Object.hasOwn(t, 'strict'))).toEqual([false, false, false]);
    const parts = await collect(wire.engine(OLD).stream(request));
    expect(parts[0]).toEqual({ type: 'warnings', warnings: result.warnings });
  });
});

describe('anthropic engine: JSON mode\u2019s forced tool', () => {
  it('the format\u2019s description leads the answer tool\u2019s description', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', name: 'json_answer', input: { city: 'Oslo' } }] });
    const result = await wire.engine(NEW).generate({ messages: hi, responseFormat: { type: 'json_schema', name: 'place', description: 'Where the user is', schema: SCHEMA } });
    expect(result.text).toBe('{"city":"Oslo"}');
    const answer = bodyTools()[0]!;
    expect(answer.name).toBe('json_answer');
    expect(answer.description).toBe('Where the user is\n\nGive your complete answer as JSON matching the schema "place": the input of this tool is the answer.');
    expect(answer).not.toHaveProperty('strict');
  });

  it('without a description the tool\u2019s description is as before', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', name: 'json_answer', input: { city: 'Oslo' } }] });
    await wire.engine(NEW).generate({ messages: hi, responseFormat: { type: 'json_schema', name: 'place', schema: SCHEMA } });
    expect(bodyTools()[0]!.description).toBe('Give your complete answer as JSON matching the schema "place": the input of this tool is the answer.');
  });

  it('a strict format makes the answer tool strict on a model that takes strict tool use', async () => {
    wire.server.enqueue({ content: [{ type: 'tool_use', name: 'json_answer', input: { city: 'Oslo' } }] });
    const result = await wire.engine(NEW).generate({ messages: hi, responseFormat: { type: 'json_schema', schema: SCHEMA, strict: true } });
    expect(result).not.toHaveProperty('warnings');
    expect(bodyTools()[0]).toMatchObject({ name: 'json_answer', strict: true });
    expect(wire.lastBody().tool_choice).toEqual({ type: 'tool', name: 'json_answer' });
  });
});
