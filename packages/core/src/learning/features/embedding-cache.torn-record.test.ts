import { mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddingCache } from './embedding-cache.js';

const dir = mkdtempSync(join(tmpdir(), 'llmrr-embcache-torn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A run killed mid-append leaves a partial record: open cuts it off, so later appends stay aligned. */
describe('EmbeddingCache after an interrupted append', () => {
  it('keeps finding what later runs store (a torn last record does not misalign every later record)', async () => {
    const dim = 4;
    const a = await EmbeddingCache.open(dir, 'toy', dim);
    await a.put([
      ['first prompt', [1, 2, 3, 4]],
      ['second prompt', [5, 6, 7, 8]],
    ]);
    // The run is killed in the middle of appending the second record: the file ends with a partial record.
    truncateSync(a.file, statSync(a.file).size - 5);

    const b = await EmbeddingCache.open(dir, 'toy', dim);
    expect(statSync(a.file).size).toBe(32 + dim * 4); // the torn record is cut off
    expect(Array.from(b.get('first prompt')!)).toEqual([1, 2, 3, 4]);
    expect(b.get('second prompt')).toBeUndefined();
    // The next run embeds what is missing and stores it...
    await b.put([
      ['second prompt', [5, 6, 7, 8]],
      ['third prompt', [9, 10, 11, 12]],
    ]);

    // ...and the run after that should find it on disk.
    const c = await EmbeddingCache.open(dir, 'toy', dim);
    expect(c.get('second prompt') && Array.from(c.get('second prompt')!)).toEqual([5, 6, 7, 8]);
    expect(c.get('third prompt') && Array.from(c.get('third prompt')!)).toEqual([9, 10, 11, 12]);
  });
});
