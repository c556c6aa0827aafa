/**
 * The prefetcher's own local-use embedder reads a question's language only once its detector (`eld`) has loaded
 * (`Embedder.prepare`): a German question asked first in the process is not learned from. Its own file: the process's
 * detector is not loaded yet when the test starts (no semantic cache here: the prefetcher's embedder is its own).
 */
import { afterEach, expect, it } from 'vitest';
import type { RouterConfigInput } from '../../config/schema.js';
import { MockEngine } from '../../engines/mock/mock-engine.js';
import type { ChatMessage } from '../../spec/index.js';
import { LLMRouter } from '../llm-router.js';
import { withPrefetch, type PrefetchingRouter } from './prefetching-router.js';

const open: Array<PrefetchingRouter<LLMRouter>> = [];
afterEach(async () => {
  for (const p of open.splice(0)) await p.close();
});

it('a German question is not learned from by a local-use prefetcher, from the first one on', async () => {
  let t = 1_000_000;
  const config: RouterConfigInput = {
    models: [
      { name: 'chat', engine: 'mock', capabilities: ['chat', 'streaming'] },
    ],
    routing: { strategy: 'priority', retries: { max: 0 } },
    cache: {
      exact: { enabled: true, ttlMs: 3_600_000 },
      semantic: { enabled: false },
      predictive: { enabled: true, embedder: 'local-use' },
    },
  };
  const router = new LLMRouter(config, { engines: { chat: new MockEngine() }, now: () => t });
  const p = withPrefetch(router, { now: () => t });
  open.push(p);
  const prefetch = p.prefetch!;
  for (const user of ['u1', 'u2']) {
    const messages: ChatMessage[] = [{ role: 'system', content: `Support session ${user}` }];
    for (const question of ['Wie kann ich mein Passwort zurücksetzen?', 'Und wie ändere ich die E-Mail-Adresse meines Kontos?']) {
      t += 5_000;
      messages.push({ role: 'user', content: question });
      const r = await p.generate({ messages: [...messages], user });
      messages.push({ role: 'assistant', content: r.text });
      await prefetch.settled();
    }
  }
  expect(prefetch.stats()).toMatchObject({ observed: 0, predicted: 0, started: 0 });
  expect(prefetch.learned('').transitions).toBe(0);
}, 60_000);
