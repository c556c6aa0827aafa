/**
 * Different questions about one piece of code. Real USE-lite embedder. The code dominates the vector (a snippet of 10-20
 * lines against a question of 5 words): "Why does this code fail?" and "How can I make this code faster?" before one
 * HumanEval snippet scored 0.95, and after it 1.0; 2 098 of 2 400 such pairs (16 questions, 10 snippets) were served each
 * other's answer at 0.85.
 */
import { describe, expect, it } from 'vitest';
import type { CachedAnswer } from '../cache/exact-cache.js';
import { LocalUseEmbedder } from '../embeddings/local-use-embedder.js';
import { makeUsage, type GenerateRequest } from '../spec/index.js';
import { proseOf } from './prose-agreement.js';
import type { SemanticLookupOptions } from './index.js';
import { SemanticCache, type SemanticLookupDetails } from './semantic-cache.js';

const scope = { models: ['m1'], tenant: 'acme' };
const ask = (content: string): GenerateRequest => ({ messages: [{ role: 'user', content }], temperature: 0 });
const answer = (text: string): Omit<CachedAnswer, 'createdAt'> => ({ text, toolCalls: [], finishReason: 'stop', usage: makeUsage(7, 2), deployment: 'm1', model: 'mock-1', provider: 'mock' });

// HumanEval's vowels_count (the shared open7b data's first test prompt), as a user pastes it.
const SNIPPET = [
  'def vowels_count(s):',
  '    """Write a function vowels_count which takes a string representing',
  '    a word as input and returns the number of vowels in the string.',
  "    Vowels in this case are 'a', 'e', 'i', 'o', 'u'. Here, 'y' is also a",
  '    vowel, but only when it is at the end of the given word.',
  '',
  '    Example:',
  '    >>> vowels_count("abcde")',
  '    2',
  '    >>> vowels_count("ACEDY")',
  '    3',
  '    """',
  '    return sum(c in "aeiou" for c in s.lower()) + s.lower().endswith("y")',
].join('\n');
const fenced = '```python\n' + SNIPPET + '\n```';

const forms: ReadonlyArray<[string, (q: string) => string]> = [
  ['before a fence', (q) => `${q}\n${fenced}`],
  ['after a fence', (q) => `${fenced}\n${q}`],
  ['before an indented block', (q) => `${q}\n\n${SNIPPET.replace(/^/gm, '    ')}`],
];

describe('SemanticCache (USE lite): different questions about one snippet', () => {
  it.each(forms)('%s: a different question is not served the stored one\'s answer; its paraphrase is', async (_, wrap) => {
    const cache = new SemanticCache({ config: { enabled: true }, embedder: new LocalUseEmbedder() });
    try {
      expect(await cache.store(ask(wrap('Why does this code fail?')), scope, answer('because ...'))).toBe(true);
      const served: string[] = [];
      for (const other of ['How can I make this code faster?', 'What does this function return?', 'Write unit tests for this function.', 'Convert this code to Rust.']) {
        const details: SemanticLookupDetails = {};
        const hit = await cache.lookup(ask(wrap(other)), scope, { details });
        // The whole texts are as near as a paraphrase's: only their words outside the code tell them apart.
        expect(details.candidates?.[0]?.cosine ?? 0, other).toBeGreaterThanOrEqual(0.85);
        if (hit) served.push(other);
      }
      expect(served).toEqual([]);
      expect((await cache.lookup(ask(wrap('Why is this code failing?')), scope))?.answer.text).toBe('because ...');
      expect((await cache.probe(ask(wrap('Explain what this code does.')), scope))).toBe(false);
      expect((await cache.probe(ask(wrap('why is this code failing')), scope))).toBe(true);
    } finally {
      await cache.close();
    }
  }, 120_000);

  it('a question that is only code is served for the same code, not for the code with a question', async () => {
    const cache = new SemanticCache({ config: { enabled: true }, embedder: new LocalUseEmbedder() });
    try {
      expect(await cache.store(ask(fenced), scope, answer('it counts vowels'))).toBe(true);
      expect((await cache.lookup(ask(fenced.replace('```python', '```py')), scope))?.answer.text).toBe('it counts vowels');
      expect(await cache.lookup(ask(`Convert this code to Rust.\n${fenced}`), scope)).toBeUndefined();
    } finally {
      await cache.close();
    }
  }, 60_000);

  // The paraphrase eval's prose threshold was an option of the public `SemanticLookupOptions` (re-exported): it is the
  // eval's own (`EvalLookupOptions`, not exported from the package). Checked by the typecheck (`tsc`, tests included).
  it('the public lookup options have no prose threshold', () => {
    // @ts-expect-error -- not a public option
    const options: SemanticLookupOptions = { threshold: 0.9, proseThreshold: 0.85 };
    expect(options.threshold).toBe(0.9);
  });

  it('proseOf: the words outside the code, lower-cased, when the code is the larger part; none otherwise', () => {
    expect(proseOf(`Why does this code FAIL?\n${fenced}\n  Thanks`)).toBe('why does this code fail? thanks');
    expect(proseOf(fenced)).toBe('');
    expect(proseOf('Why does `x` fail?')).toBeUndefined();
    // Inline spans are names the question is about: kept, never code that dominates.
    expect(proseOf('`a_very_long_function_name_with_arguments(x, y, z)` vs `another_one(x)`?')).toBeUndefined();
    expect(proseOf('Why does `f(x)` fail here?\n```\nf(x)\nf(y)\nf(z)\nf(w)\n```')).toBe('why does `f(x)` fail here?');
    expect(proseOf('To use Datasets with JAX, you need to install `jax` and `jaxlib` as `pip install datasets[jax]`. Then you can get JAX arrays (numpy-like) by setting the format of the dataset to `jax`.')).toBeUndefined();
    expect(proseOf('Why?\n```\nx = 1\n```')).toBe('why?');
    expect(proseOf('Why does this fail?')).toBeUndefined();
  });
});
