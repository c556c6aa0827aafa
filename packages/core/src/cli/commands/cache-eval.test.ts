import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BagOfWordsEmbedder } from '../../semantic-cache/__fixtures__/bag-of-words-embedder.js';
import { runCli, tempDir, type TempDir } from '../__fixtures__/cli-harness.js';
import type { CliContext } from '../cli-io.js';
import { runCacheEval } from './cache-eval.js';

let t: TempDir;
const pairs = [
  { origin: 'how do I reset my account password', similar: 'how can I reset the password of my account' },
  { origin: 'what is the capital city of france', similar: 'the capital city of france is what' },
  { origin: 'install the python package with pip', similar: 'use pip to install the python package' },
  { origin: 'red green blue', similar: 'completely different words here' }, // a paraphrase that shares no word: a miss
];
let pairsFile: string;

beforeAll(() => {
  t = tempDir();
  mkdirSync(`${t.dir}/cache`);
  mkdirSync(`${t.dir}/routing`);
  t.write('cache/pairs.json', JSON.stringify(pairs));
  pairsFile = `${t.dir}/cache/pairs.json`;
  t.write('routing/q.jsonl', `${JSON.stringify({ turns: ['Write a poem about the sea.', 'Now make it rhyme.'] })}\n`);
  t.write('routing/p.csv', 'prompt,other\n"A farmer has 3 cows, how many legs?",1\n"password reset account my how do I",0\n');
});
afterAll(() => t.remove());

function ctx(): { ctx: CliContext; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    ctx: { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, stdin: undefined, env: {}, cwd: t.dir, signal: undefined },
    out: () => out,
    err: () => err,
  };
}

describe('llmrr cache eval', () => {
  it('counts correct hits, wrong hits and misses per threshold as JSON', async () => {
    const c = ctx();
    const code = await runCacheEval(
      ['eval', '--data', 'cache/pairs.json', '--unrelated', 'routing/q.jsonl,routing/p.csv', '--thresholds', '0.5,0.99', '--json'],
      c.ctx,
      { embedder: () => new BagOfWordsEmbedder() },
    );
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    const r = JSON.parse(c.out());
    expect(r).toMatchObject({ embedder: 'bag-of-words', pairs: 4, stored: 4, unrelated: 4, texts_embedded: 12 });
    const [low, high] = r.thresholds;
    // At 0.5: the three word-sharing paraphrases hit their origin; the scrambled "password reset" prompt hits too (a wrong hit).
    expect(low).toMatchObject({ threshold: 0.5, correct: 3, wrong: 0, misses: 1, unrelatedWrong: 1, unrelatedMisses: 3 });
    expect(low.correctRate).toBeCloseTo(0.75, 6);
    expect(low.wrongRate).toBeCloseTo(1 / 8, 6);
    // Bag of words ignores order: "the capital city of france is what" is identical to its origin (score 1).
    expect(high).toMatchObject({ threshold: 0.99, correct: 1, wrong: 0, misses: 3 });
    expect(r.p99_ms).toBeGreaterThanOrEqual(r.p50_ms);
    expect(r).not.toHaveProperty('wrong_examples');
  });

  it('lists the best-scoring wrong hits with --examples', async () => {
    const c = ctx();
    await runCacheEval(['eval', '--data', 'cache/pairs.json', '--unrelated', 'routing/p.csv', '--examples', '5'], c.ctx, { embedder: () => new BagOfWordsEmbedder() });
    expect(c.out()).toContain('wrong hit 1.000: "password reset account my how do I"\n  matched:  "how do I reset my account password" (unrelated prompt)');
  });

  it('prints a table by default, with latency and embedding time', async () => {
    const c = ctx();
    expect(await runCacheEval(['eval', '--data', pairsFile, '--unrelated', 'routing/q.jsonl', '--limit', '2'], c.ctx, { embedder: () => new BagOfWordsEmbedder() })).toBe(0);
    expect(c.out()).toContain('2 paraphrase pairs (2 distinct origins stored), 2 unrelated prompts');
    expect(c.out()).toMatch(/threshold +correct +wrong +miss/);
    for (const t of ['0.70', '0.75', '0.80', '0.85', '0.90', '0.95']) expect(c.out()).toContain(t);
    expect(c.out()).toMatch(/lookup \(without embedding\): p50 [\d.]+ ms, p99 [\d.]+ ms/);
  });

  it('finds the default unrelated prompts under the data root, and says when they are missing', async () => {
    const r = await runCli(['cache', 'eval', '--data', pairsFile], { cwd: t.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unrelated prompts not found');
    expect(r.stderr).toContain('routing/routellm/mt_bench/question.jsonl');
  });

  it('is registered as `llmrr cache` and reports usage errors naming the flag', async () => {
    expect((await runCli(['cache', '--help'])).stdout).toContain('Usage: llmrr cache eval --data');
    expect((await runCli(['cache', 'eval'], { cwd: t.dir })).stderr).toContain('missing --data');
    expect((await runCli(['cache', 'evil'], { cwd: t.dir })).stderr).toContain('unknown subcommand "evil"');
    expect((await runCli(['cache', 'eval', '--data', 'nope.json'], { cwd: t.dir })).stderr).toContain('--data: no such file');
    const bad = await runCli(['cache', 'eval', '--data', pairsFile, '--thresholds', '0.5,2'], { cwd: t.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--thresholds expects');
    t.write('cache/bad.json', '[{"origin": 1}]');
    expect((await runCli(['cache', 'eval', '--data', 'cache/bad.json'], { cwd: t.dir })).stderr).toContain('item 0 needs string "origin" and "similar"');
  });
});
