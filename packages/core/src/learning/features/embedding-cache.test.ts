import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddingCache } from './embedding-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'llmrr-emb-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('EmbeddingCache', () => {
  it('embeds only what is missing, persists it, and reads it back in a new process-like open', async () => {
    const calls: string[][] = [];
    const embed = async (batch: string[]) => {
      calls.push(batch);
      return batch.map((t) => [t.length, 1, -0.5]);
    };
    const c = await EmbeddingCache.open(dir, 'toy/model', 3);
    await c.fill(['a', 'bb', 'a', 'ccc'], embed, undefined, 2);
    expect(calls).toEqual([['a', 'bb'], ['ccc']]);
    expect(Array.from(c.get('bb')!)).toEqual([2, 1, -0.5]);
    await c.fill(['bb', 'dddd'], embed);
    expect(calls.at(-1)).toEqual(['dddd']);
    expect(statSync(c.file).size).toBe(4 * (32 + 3 * 4));
    const again = await EmbeddingCache.open(dir, 'toy/model', 3);
    expect(again.size).toBe(4);
    expect(Array.from(again.get('dddd')!)).toEqual([4, 1, -0.5]);
    expect(again.get('never')).toBeUndefined();
    // Another model or dimension is another file.
    expect((await EmbeddingCache.open(dir, 'toy/model', 4)).size).toBe(0);
  });
});
