import type { StateStores } from '@llmrr/core';
import { expect } from 'vitest';
import { PREFETCH_ENDPOINT } from '../metering/prefetch-metering.js';
import { createHarness, mockModel, post, type Harness, type HarnessOptions } from './harness.js';

/** The two questions of every support conversation: the first, and the follow-up the prefetcher learns. */
export const FIRST_QUESTION = 'How do I reset my password?';
export const FOLLOW_UP = 'And how do I change the email address on my account?';

/**
 * A harness whose router prefetches: a priced mock `chat`, a mock embedder `emb`, the exact, semantic (guarded
 * above 0.95) and predictive caches, and `unknownTenant: 'shared'`; other options as given (`routerOptions` are
 * added to those).
 */
export function createPrefetchHarness(options: Omit<HarnessOptions, 'models' | 'cache'> = {}): Promise<Harness> {
  return createHarness({
    models: [mockModel('chat'), mockModel('emb', {}, { capabilities: ['embeddings'] })],
    cache: {
      exact: { enabled: true, ttlMs: 3_600_000 },
      semantic: { enabled: true, embedder: 'emb', threshold: 0.95, guardAbove: 0.95 },
      predictive: { enabled: true },
    },
    ...options,
    routerOptions: { unknownTenant: 'shared', ...options.routerOptions },
  });
}

export type AnswerBody = { choices: Array<{ message: { content: string } }>; usage: { completion_tokens: number } };
/** `conversation(session)(question)`: sends the question with the session's history, expects a 200, waits for the prefetches. */
export type Conversations = (session: string) => (question: string) => Promise<Response>;

/**
 * One user's conversation through the harness's gateway (a system line names the session, `user` is the session),
 * with `headers` (a tenant's key) on each request; `onAnswer` sees each answer and its body. Each question waits
 * for the router's prefetches to settle.
 */
export function supportConversations(h: Harness, headers: Record<string, string> = {}, onAnswer?: (res: Response, body: AnswerBody) => void): Conversations {
  return (session) => {
    const messages: Array<{ role: string; content: string }> = [{ role: 'system', content: `Support session ${session}` }];
    return async (question) => {
      messages.push({ role: 'user', content: question });
      const res = await post(h.gateway, '/v1/chat/completions', { model: 'chat', messages, user: session }, headers);
      expect(res.status).toBe(200);
      const body = (await res.json()) as AnswerBody;
      onAnswer?.(res, body);
      messages.push({ role: 'assistant', content: body.choices[0]!.message.content });
      await h.router.prefetch!.settled();
      return res;
    };
  };
}

/** Each of `sessions` asks the first question, then the follow-up. */
export async function askBoth(conversation: Conversations, sessions: string[]): Promise<void> {
  for (const session of sessions) {
    const c = conversation(session);
    await c(FIRST_QUESTION);
    await c(FOLLOW_UP);
  }
}

/** u1 and u2 teach the prefetcher the follow-up; u3 asks the first question, so the follow-up is prefetched once, for u3. */
export async function promptOnePrefetch(conversation: Conversations): Promise<void> {
  await askBoth(conversation, ['u1', 'u2']);
  await conversation('u3')(FIRST_QUESTION);
}

/** Waits (bounded) until the ledger has `n` prefetch rows of tenant `acme`; throws if it does not. */
export async function prefetchRows(stores: StateStores, n: number) {
  for (let i = 0; i < 400; i++) {
    const rows = (await stores.ledger.query({ tenantId: 'acme', limit: 1000 })).filter((r) => r.endpoint === PREFETCH_ENDPOINT);
    if (rows.length >= n) return rows;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`fewer than ${n} prefetch rows in the ledger`);
}
