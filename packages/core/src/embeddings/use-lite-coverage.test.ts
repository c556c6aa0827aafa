import { describe, expect, it } from 'vitest';
import { UseLiteTokenizer, UseLiteTokenizerLoader } from './use-lite-coverage.js';

const tokenizer = new UseLiteTokenizer([['<unk>', 0], ['<s>', 0], ['</s>', 0], ['x1', 0], ['x2', 0], ['x3', 0], ['\u2581hi', -1]]);

// A vocabulary that could not be read made coverage "not known" for the life of the process, silently: the semantic
// cache then skipped no Chinese or emoji-only question (one vector for all) and nobody was told.
describe('UseLiteTokenizerLoader', () => {
  it('an unreadable vocabulary is warned about once, coverage is not known meanwhile, and it is read again a minute later', () => {
    let t = 0;
    let reads = 0;
    let fail = true;
    const warnings: string[] = [];
    const loader = new UseLiteTokenizerLoader(
      () => {
        reads++;
        if (fail) throw new Error('/pkg/vocab.json: Unexpected end of JSON input');
        return tokenizer;
      },
      (m) => warnings.push(m),
      () => t,
    );
    expect(loader.get()).toBeNull();
    expect(loader.get()).toBeNull();
    expect(reads).toBe(1);
    expect(warnings).toEqual([expect.stringMatching(/^\[llmrr\] local-use embedder: cannot read the USE lite vocabulary \(\/pkg\/vocab\.json: Unexpected end of JSON input\).*skips none/)]);
    t += 60_000;
    expect(loader.get()).toBeNull();
    expect(reads).toBe(2);
    expect(warnings).toHaveLength(1);
    fail = false;
    t += 60_000;
    expect(loader.get()).toBe(tokenizer);
    expect(loader.get()).toBe(tokenizer);
    expect(reads).toBe(3);
  });

  it('a package that is not installed is not warned about (embedding says what to install) nor looked for again', () => {
    let reads = 0;
    const warnings: string[] = [];
    const loader = new UseLiteTokenizerLoader(
      () => {
        reads++;
        return undefined;
      },
      (m) => warnings.push(m),
      () => 10 * 60_000,
    );
    expect(loader.get()).toBeNull();
    expect(loader.get()).toBeNull();
    expect({ reads, warnings }).toEqual({ reads: 1, warnings: [] });
  });

  it('a log that throws fails nothing', () => {
    const loader = new UseLiteTokenizerLoader(
      () => {
        throw new Error('EACCES');
      },
      () => {
        throw new Error('log down');
      },
    );
    expect(loader.get()).toBeNull();
  });
});
