/**
 * How many English prompts of the shared routing data the semantic cache's language rule skips as another language
 * (`LocalUseEmbedder.coverage(...).otherLanguage`: eld's reading and the word check, `otherLanguageOf`), against eld's
 * reading alone (the figure docs/caching.md gave before the word check): the exam, maths and code prompts of the
 * RouterDC open7b files (MMLU, GSM8K, ARC, HumanEval, MBPP, MATH; 8 181 prompts) and the 160 MT-Bench turns.
 * Run: `cd packages/core && npx vitest run src/embeddings/use-lite-language.routing-data.test.ts` (prints the counts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedRoutingDir } from '../learning/datasets/shared-data-dir.js';
import { embeddingInput } from '../semantic-cache/semantic-cache.js';
import { LocalUseEmbedder, truncateForEmbedding, USE_LITE_MAX_CHARS } from './local-use-embedder.js';
import { useLiteLanguage } from './use-lite-language.js';

const shared = sharedRoutingDir(process.env, process.cwd());
const reason = 'shared routing data not found (set LLMRR_SHARED_DIR or put it in ../shared/data/routing)';

/** The English open7b files (not CMMLU / C-Eval, which are Chinese). */
const OPEN7B = ['mmlu_test', 'gsm8k-test', 'arc_challenge_test', 'arc_easy_test', 'humaneval_test', 'mbpp', 'MATH_prealgebra', 'javascript'];

describe.skipIf(!shared)(`the language rule on the English routing prompts (${shared ? 'shared data' : reason})`, () => {
  it('skips none of the 8 181 English exam, maths and code prompts (eld alone: 17), and of the MT-Bench turns only the German idiom', async () => {
    const use = new LocalUseEmbedder();
    await use.prepare();
    const detector = useLiteLanguage();
    expect(detector.loaded).toBe(true);
    const prompts = OPEN7B.flatMap((f) => (JSON.parse(readFileSync(join(shared!, 'open7b', `${f}.json`), 'utf8')) as Array<{ question: string }>).map((r) => r.question));
    const mtBench = readFileSync(join(shared!, 'routellm', 'mt_bench', 'question.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .flatMap((l) => (JSON.parse(l) as { turns: string[] }).turns);
    /** eld's reading alone: not English (as docs/caching.md counted before the word check). */
    const eldAlone = (q: string): boolean => {
      const l = detector.detect(truncateForEmbedding(q.normalize('NFKC'), USE_LITE_MAX_CHARS));
      return l !== undefined && l !== 'en';
    };
    /** The semantic cache's rule, on the question as it reads it (`embedderReading`). */
    const rule = (q: string): string | undefined => use.coverage(embeddingInput(q), q)?.otherLanguage;
    const alone = prompts.filter(eldAlone);
    const skipped = prompts.filter((q) => rule(q) !== undefined);
    const mtSkipped = mtBench.filter((q) => rule(q) !== undefined);
    console.info(
      `[language rule] ${prompts.length} English routing prompts: eld alone ${alone.length}, eld + word check ${skipped.length}; ` +
        `MT-Bench ${mtBench.length} turns: eld alone ${mtBench.filter(eldAlone).length}, rule ${mtSkipped.length}\n` +
        skipped.map((q) => `  ${rule(q)}: ${JSON.stringify(q.slice(0, 100))}`).join('\n'),
    );
    expect(prompts.length).toBe(8_181);
    // Measured 2026-11-29: eld alone 17 (short formulas, "Compute $3^4-5\\cdot8$." as Catalan), the rule 0.
    expect(alone.length).toBeGreaterThan(0);
    expect(skipped).toEqual([]);
    expect(mtSkipped).toEqual([expect.stringContaining('Ich verstehe nur Bahnhof')]);
  }, 300_000);
});
