/**
 * The semantic cache with its defaults (`cache.semantic: { enabled: true }`: local USE-lite embedder, threshold 0.85,
 * hybrid scoring, guard `miss`) does not serve a close match whose answer belongs to the other question's details:
 * an answer with tool calls to a question that is not the same text (up to case and whitespace), whose arguments
 * are the other question's, nor an answer to a question naming other numbers. Both are misses (the model is asked);
 * the same question in other case is still served. Served gateway, official `openai` client, a local OpenAI-wire
 * upstream that answers from the question it is sent.
 */
import { startOpenAIWireServer, type OpenAIWireServer, type RecordedRequest } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

let gw: SdkGateway;
let upstream: OpenAIWireServer;

const lastUser = (req: RecordedRequest): string => {
  const messages = (req.body as { messages: Array<{ role: string; content: string }> }).messages;
  return messages.filter((m) => m.role === 'user').at(-1)!.content;
};

beforeAll(async () => {
  upstream = await startOpenAIWireServer({
    script: (req) => {
      const body = req.body as { tools?: unknown[] };
      const q = lastUser(req);
      if (body.tools) {
        const people = /for (\d+) people/.exec(q)?.[1];
        if (people) return { toolCalls: [{ name: 'book_table', arguments: JSON.stringify({ people: Number(people) }) }] };
        const city = /in (\w+)/.exec(q)?.[1] ?? '?';
        return { toolCalls: [{ name: 'weather', arguments: JSON.stringify({ city }) }] };
      }
      return { text: `Answer to: ${q}` };
    },
  });
  gw = await servedGateway({
    models: [{ name: 'gpt', engine: 'openai-compatible', baseURL: upstream.baseURL, model: 'gpt-test', apiKey: 'k', capabilities: ['chat', 'streaming', 'tools'] }],
    cache: { semantic: { enabled: true, embedder: 'local-use' } },
    upstreams: [upstream],
  });
}, 60_000);
afterAll(() => gw?.close());

const tools = [
  { type: 'function' as const, function: { name: 'book_table', parameters: { type: 'object', properties: { people: { type: 'integer' } } } } },
  { type: 'function' as const, function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
];

async function askTool(question: string) {
  const { data, response } = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: question }], tools }).withResponse();
  return { args: JSON.parse((data.choices[0]!.message.tool_calls![0] as { function: { arguments: string } }).function.arguments) as Record<string, unknown>, cache: response.headers.get('x-llmrr-cache'), score: response.headers.get('x-llmrr-cache-score') };
}

async function askText(question: string) {
  const { data, response } = await gw.openai().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: question }] }).withResponse();
  return { text: data.choices[0]!.message.content, cache: response.headers.get('x-llmrr-cache'), score: response.headers.get('x-llmrr-cache-score') };
}

describe('semantic cache matches whose answer is the other question\'s (defaults)', () => {
  it('an answer with tool calls is served only to the same question: another one is a miss, never the other arguments', async () => {
    expect((await askTool('Book a table for 2 people tonight')).args).toEqual({ people: 2 });
    const four = await askTool('Book a table for 4 people tonight');
    // Not { people: 2 } from the cache (hit-semantic ~0.99 before): the model is asked.
    expect.soft({ args: four.args, cache: four.cache, score: four.score }).toEqual({ args: { people: 4 }, cache: 'miss', score: null });

    expect((await askTool('What is the weather in Paris today?')).args).toEqual({ city: 'Paris' });
    const berlin = await askTool('Whats the weather in Berlin today?');
    // Not { city: 'Paris' } (hit-semantic ~0.86 before).
    expect.soft({ args: berlin.args, cache: berlin.cache, score: berlin.score }).toEqual({ args: { city: 'Berlin' }, cache: 'miss', score: null });

    // The same question in other case and spacing is the same question: its calls are served.
    const again = await askTool('book a table for 2  people tonight');
    expect({ args: again.args, cache: again.cache }).toEqual({ args: { people: 2 }, cache: 'hit-semantic' });
    expect(upstream.requests).toHaveLength(4);
  }, 60_000);

  it('a question naming other numbers is a miss, not the other number\'s answer; the same numbers are served', async () => {
    expect((await askText('Convert 10 miles to kilometers')).text).toBe('Answer to: Convert 10 miles to kilometers');
    const twelve = await askText('Convert 12 miles to kilometers');
    // Not the answer for 10 miles (hit-semantic 0.9961 before).
    expect.soft(twelve).toEqual({ text: 'Answer to: Convert 12 miles to kilometers', cache: 'miss', score: null });

    expect((await askText('What is 2+2?')).text).toBe('Answer to: What is 2+2?');
    const sum = await askText('What is 2+3?');
    // Not the answer to 2+2 (hit-semantic 0.9855 before).
    expect.soft(sum).toEqual({ text: 'Answer to: What is 2+3?', cache: 'miss', score: null });

    // A paraphrase naming the same number is served ("Convert 10 miles", stored too, is no rival for it).
    const same = await askText('Convert 12 miles into kilometers');
    expect({ text: same.text, cache: same.cache }).toEqual({ text: 'Answer to: Convert 12 miles to kilometers', cache: 'hit-semantic' });
  }, 60_000);
});
