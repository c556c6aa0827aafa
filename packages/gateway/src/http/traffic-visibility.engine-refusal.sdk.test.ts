import { startOpenAIWireServer } from '@llmrr/core/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedGateway, type SdkGateway } from '../test-support/served-gateway.js';

// A shared deployment whose engine learned from one tenant's call that its server refuses a conversation ending with
// an assistant message (Mistral's last-role 400, latched by the engine) is left out of every later plan for such a
// request. Another tenant's `llmrr.explain` names it excluded with the field only: nothing of the call it learned from.

const ENDS_WITH_ASSISTANT = [
  { role: 'user' as const, content: 'The capital of France?' },
  { role: 'assistant' as const, content: 'Paris.' },
];

interface Decision {
  selected: string;
  excluded: Array<{ name: string; kind: string; code?: string; param?: string; reason: string }>;
}

describe('llmrr.explain: an engine refusal on a shared deployment, seen by another tenant (official openai client)', () => {
  let gw: SdkGateway;
  let globexSecret: string;
  beforeAll(async () => {
    const [mis, gpt] = await Promise.all([startOpenAIWireServer({ script: { mistralRoles: true } }), startOpenAIWireServer({ script: { text: 'from gpt' } })]);
    const wire = { engine: 'openai-compatible', apiKey: 'k', capabilities: ['chat' as const, 'streaming' as const] };
    gw = await servedGateway({
      models: [
        // No preset: the engine learns the refusal from the server's 400.
        { ...wire, name: 'mis', baseURL: mis.baseURL, model: 'mistral-small-latest', priority: 1 },
        { ...wire, name: 'gpt', baseURL: gpt.baseURL, model: 'gpt-test', priority: 2 },
      ],
      routing: { strategy: 'priority' },
      upstreams: [mis, gpt],
    });
    const tenants = gw.harness.stores!.tenants;
    await tenants.createTenant({ id: 'globex', name: 'Globex' });
    globexSecret = (await tenants.createKey('globex', { name: 'k' })).secret;
  });
  afterAll(() => gw.close());

  it("the other tenant's explain says the engine refuses the request's field; the router's own explanation keeps the words", async () => {
    // Acme's call: the shared `mis` answers 400, the engine remembers it, `gpt` answers.
    const acme = await gw.openai().chat.completions.create({ model: 'auto', messages: ENDS_WITH_ASSISTANT });
    expect(acme.choices[0]!.message.content).toBe('from gpt');

    const globex = gw.openai().withOptions({ apiKey: globexSecret });
    const body = { model: 'auto', messages: ENDS_WITH_ASSISTANT, llmrr: { explain: true } } as unknown as Parameters<typeof globex.chat.completions.create>[0] & { stream?: false };
    const answer = (await globex.chat.completions.create(body)) as unknown as { choices: Array<{ message: { content: string } }>; llmrr: { decision: Decision } };
    expect(answer.choices[0]!.message.content).toBe('from gpt');
    expect(answer.llmrr.decision.selected).toBe('gpt');
    expect(answer.llmrr.decision.excluded).toEqual([{ name: 'mis', kind: 'unfit', code: 'unsupported', param: 'messages.1', reason: 'its engine refuses this request (messages.1)' }]);

    const core = await gw.harness.router.route({ messages: ENDS_WITH_ASSISTANT }, { tenant: 'globex', explain: true });
    expect(core.excluded[0]!.reason).toContain('Expected last role User or Tool');
  });
});
