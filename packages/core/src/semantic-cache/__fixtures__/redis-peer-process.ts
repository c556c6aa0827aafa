/**
 * A second process for the Redis store test: `store <url> <prefix> <question> <answer>` stores one entry,
 * `lookup <url> <prefix> <question>` prints the answer it finds (or MISS). Uses the bag-of-words embedder.
 */
import { makeUsage } from '../../spec/index.js';
import { RedisSemanticStore } from '../redis-semantic-store.js';
import { SemanticCache } from '../semantic-cache.js';
import { BagOfWordsEmbedder } from './bag-of-words-embedder.js';

const [action, url, prefix, question, text] = process.argv.slice(2);
const store = await RedisSemanticStore.connect({ url: url!, prefix: prefix! });
const cache = new SemanticCache({ config: { enabled: true, threshold: 0.8, guardAbove: 0.8 }, embedder: new BagOfWordsEmbedder(), store });
const scope = { models: ['m1'], tenant: 'acme' };
const request = { messages: [{ role: 'user' as const, content: question! }] };
if (action === 'store') {
  await cache.store(request, scope, { text: text!, toolCalls: [], finishReason: 'stop', usage: makeUsage(1, 1), deployment: 'm1', model: 'mock', provider: 'mock' });
  process.stdout.write('STORED\n');
} else {
  const hit = await cache.lookup(request, scope);
  process.stdout.write(`${hit?.answer.text ?? 'MISS'}\n`);
}
await cache.close();
