/**
 * A cascade, offline: the virtual model `math-cascade` calls a cheap model first, checks its arithmetic with
 * the built-in `arithmetic` verifier, and calls the dear model only when the answer looks wrong. The two
 * "models" are mock deployments with fixed replies (test doubles, not models): one cheap reply with correct
 * arithmetic, one with a wrong product, so both branches show. `pnpm start:cascade` runs it.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LLMRouter, type RouterResult } from '@llmrr/core';
import type { Output } from './main.js';
import { formatUsd } from './money.js';

export const QUESTION = 'Janet has 16 eggs. She eats 3 and bakes with 4. She sells the rest at $2 each. How many dollars does she make?';
const CHEAP_RIGHT = 'She has 16 - 3 - 4 = 9 eggs left. She makes 9 * 2 = 18 dollars.\n#### 18';
const CHEAP_WRONG = 'She has 16 - 3 - 4 = 9 eggs left. She makes 9 * 2 = 19 dollars.\n#### 19';
const DEAR = 'Janet sells 16 - 3 - 4 = 9 eggs for 9 * 2 = 18 dollars.\n#### 18';

/** Two cascades over the same dear model: one whose cheap step answers right, one whose cheap step slips. */
export function createCascadeRouter(): LLMRouter {
  return new LLMRouter({
    models: [
      { name: 'cheap-careful', engine: 'mock', price: { input: 0.15, output: 0.6 }, options: { reply: CHEAP_RIGHT } },
      { name: 'cheap-sloppy', engine: 'mock', price: { input: 0.15, output: 0.6 }, options: { reply: CHEAP_WRONG } },
      { name: 'dear', engine: 'mock', price: { input: 3, output: 15 }, options: { reply: DEAR } },
    ],
    routing: {
      strategy: 'priority',
      cascades: [
        { name: 'math-careful', weak: 'cheap-careful', strong: 'dear', verifier: 'arithmetic' },
        { name: 'math-sloppy', weak: 'cheap-sloppy', strong: 'dear', verifier: 'arithmetic' },
      ],
    },
  });
}

/** Asks both cascades the same question and prints what each did and what it cost. */
export async function cascadeTour(out: Output): Promise<RouterResult[]> {
  const router = createCascadeRouter();
  try {
    const results: RouterResult[] = [];
    out.write(`Question: ${QUESTION}\n`);
    for (const model of ['math-careful', 'math-sloppy']) {
      const r = await router.generate(QUESTION, { model });
      const c = r.cascade!;
      out.write(
        `\n${model}: the answer of ${c.weak.deployment} scored ${c.score.toFixed(2)} by ${c.verifier} (threshold ${c.threshold}), ` +
          `${c.escalated ? `escalated to ${c.strong?.deployment}` : 'accepted'}\n` +
          `  answer (${r.deployment}): ${r.text.split('\n').at(-1)}\n` +
          `  cost ${formatUsd(r.cost.totalUsd)} for ${c.escalated ? 'both calls' : 'one call'}\n`,
      );
      results.push(r);
    }
    return results;
  } finally {
    await router.close();
  }
}

const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) {
  cascadeTour({ write: (text) => process.stdout.write(text) }).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
