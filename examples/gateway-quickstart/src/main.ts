/**
 * @llmrr/gateway as a library, offline: a router over a mock deployment (a deterministic test double, not a
 * model), a tenant with an API key, a rate limit and a budget, the gateway served on 127.0.0.1, and the
 * official `openai` client talking to it (chat completions with log probabilities, and the Responses API). Ends with the tenant's usage as the ledger recorded it.
 */
import { LLMRouter, createStateStores } from '@llmrr/core';
import { createGateway } from '@llmrr/gateway';
import { serveGateway } from '@llmrr/gateway/node';
import OpenAI from 'openai';

export interface TourResult {
  answer: string;
  /** The answer's tokens as the log probabilities name them (`logprobs: true`), joined. */
  logprobTokens: string;
  /** Their log probabilities (the mock's answer is certain: each is 0). */
  logprobValues: number[];
  streamed: string;
  /** The same gateway through the Responses API (`client.responses.create`). */
  viaResponses: string;
  costHeader: string | null;
  requests: number;
  costUsd: number;
  unauthorizedStatus: number;
}

export async function tour(log: (line: string) => void = console.log): Promise<TourResult> {
  const router = new LLMRouter({
    models: [{ name: 'mock', engine: 'mock', price: { input: 0.1, output: 0.2 } }],
    routing: { strategy: 'priority' },
  });
  const stores = await createStateStores({ mode: 'memory' });
  await stores.tenants.createTenant({ id: 'acme', name: 'Acme', limits: { rpm: 60 }, budget: { amountUsd: 5, period: 'month' } });
  const { secret } = await stores.tenants.createKey('acme', { name: 'laptop' });

  const gateway = createGateway({ router, stores, auth: { adminKey: 'example-admin-key' } });
  const server = await serveGateway(gateway, { port: 0 });
  try {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: secret, maxRetries: 0 });

    const { data, response } = await client.chat.completions
      .create({ model: 'mock', messages: [{ role: 'user', content: 'hello' }], logprobs: true, top_logprobs: 1 })
      .withResponse();
    const answer = data.choices[0]?.message.content ?? '';
    const costHeader = response.headers.get('x-llmrr-cost-usd');
    // Log probabilities come back in OpenAI's shape wherever the deployment gives them (the mock's are its own).
    const tokens = data.choices[0]?.logprobs?.content ?? [];
    const logprobTokens = tokens.map((t) => t.token).join('');
    const logprobValues = tokens.map((t) => t.logprob);
    log(`answer: ${answer} (cost header $${costHeader}; ${tokens.length} tokens with log probabilities)`);

    let streamed = '';
    const stream = await client.chat.completions.create({
      model: 'mock',
      messages: [{ role: 'user', content: 'tell me a story' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    log(`streamed: ${streamed}`);

    // The Responses API, which the openai SDK and the Vercel AI SDK's openai(model) use for new code.
    const created = await client.responses.create({ model: 'mock', instructions: 'Be brief.', input: 'hello again' });
    const viaResponses = created.output_text;
    log(`responses API: ${viaResponses} (${created.id})`);

    const stranger = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'llmrr_not-a-real-key', maxRetries: 0 });
    let unauthorizedStatus = 0;
    try {
      await stranger.chat.completions.create({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] });
    } catch (e) {
      unauthorizedStatus = e instanceof OpenAI.APIError ? (e.status ?? 0) : -1;
    }
    log(`a wrong key gets HTTP ${unauthorizedStatus}`);

    const usage = await stores.ledger.summary({ tenantId: 'acme' });
    log(`ledger for acme: ${usage.requests} requests, $${usage.costUsd}`);
    return { answer, logprobTokens, logprobValues, streamed, viaResponses, costHeader, requests: usage.requests, costUsd: usage.costUsd, unauthorizedStatus };
  } finally {
    await server.close();
    // The gateway waits for the calls the server's close cut to settle, before the stores close.
    await gateway.close();
    await Promise.all([router.close(), stores.close()]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await tour();
}
