/** Synthetic routing data for tests: model "mathy" is right on arithmetic prompts, "poet" on writing prompts. */
import type { RoutingDataset, RoutingExample } from '../datasets/types.js';
import { seededRandom } from '../predictors/adam.js';

const MATH = ['calculate the sum of', 'how many apples if', 'solve the equation', 'what is the product of', 'compute the remainder of'];
const WRITE = ['write a poem about', 'compose a story on', 'write a short essay about', 'describe in lyrics the', 'imagine a fairy tale of'];
const NOUNS = ['the sea', 'a dragon', 'autumn', 'the city', 'friendship', 'a robot', 'the moon', 'rain'];

/** `n` prompts, half math, half writing; quality is right 90% of the time as described, with noise. */
export function syntheticExamples(n: number, seed = 3, split?: 'train' | 'test'): RoutingExample[] {
  const r = seededRandom(seed);
  const out: RoutingExample[] = [];
  for (let i = 0; i < n; i++) {
    const math = i % 2 === 0;
    const prompt = math
      ? `${MATH[Math.floor(r() * MATH.length)]} ${Math.floor(r() * 900) + 10} and ${Math.floor(r() * 90) + 2}?`
      : `${WRITE[Math.floor(r() * WRITE.length)]} ${NOUNS[Math.floor(r() * NOUNS.length)]}.`;
    const good = (p: number) => (r() < p ? 1 : 0);
    const e: RoutingExample = {
      id: `${split ?? 'x'}-${seed}-${i}`,
      prompt,
      task: math ? 'math' : 'writing',
      // models: [cheap, mathy, poet]
      quality: [good(0.3), good(math ? 0.95 : 0.2), good(math ? 0.2 : 0.95)],
      cost: [0.0001, 0.001, 0.002],
    };
    if (split) e.split = split;
    out.push(e);
  }
  return out;
}

export function syntheticDataset(): RoutingDataset {
  return {
    name: 'synthetic',
    format: 'long',
    models: ['cheap', 'mathy', 'poet'],
    examples: [...syntheticExamples(300, 3, 'train'), ...syntheticExamples(120, 4, 'test')],
  };
}

/** Two-model version: weak is right on easy (short) prompts, strong nearly always. */
export function syntheticPairDataset(n = 400): RoutingDataset {
  const r = seededRandom(9);
  const examples: RoutingExample[] = [];
  for (let i = 0; i < n; i++) {
    const hard = i % 3 === 0;
    const prompt = hard ? `prove the theorem about prime ${i} numbers and integral calculus limits` : `say hello to ${NOUNS[i % NOUNS.length]}`;
    examples.push({ id: `p${i}`, prompt, task: hard ? 'hard' : 'easy', quality: [hard ? (r() < 0.1 ? 1 : 0) : r() < 0.9 ? 1 : 0, r() < 0.95 ? 1 : 0] });
  }
  return { name: 'pair', format: 'routellm', models: ['weak', 'strong'], examples, pair: { weak: 0, strong: 1 } };
}

/**
 * Two-model data where shared difficulty dominates and the strong model's gain is a rarer, separate
 * signal: "easy" prompts both models get right (90%), "hard" ones both get wrong (90%), and only on
 * "tricky" prompts (1 in 6) is the strong model right (90%) and the weak one wrong (90%).
 */
export function syntheticGainExamples(n: number, seed = 11): RoutingExample[] {
  const r = seededRandom(seed);
  const out: RoutingExample[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 6 === 0 ? 'tricky' : i % 2 === 0 ? 'hard' : 'easy';
    const noun = NOUNS[Math.floor(r() * NOUNS.length)]!;
    const prompt = kind === 'tricky' ? `count the hidden pattern in ${noun} carefully` : kind === 'hard' ? `prove the open conjecture about ${noun} rigorously` : `say hello to ${noun} please`;
    const good = (p: number) => (r() < p ? 1 : 0);
    const weak = kind === 'easy' ? good(0.9) : good(0.1);
    const strong = kind === 'hard' ? good(0.1) : good(0.9);
    out.push({ id: `g${seed}-${i}`, prompt, task: kind, quality: [weak, strong] });
  }
  return out;
}
