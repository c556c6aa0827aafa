import type { EmbedOptions, Embedder } from '../embeddings/embedder.js';
import { withoutCode } from '../embeddings/use-lite-language.js';

/**
 * A question's words outside its Markdown code blocks (`withoutCode`: fenced and indented blocks; inline spans are kept,
 * read as words), white space collapsed and lower-cased as the embedder is given text, when the code dominates it: the
 * blocks are the larger part of the question (collapsed). Undefined otherwise: no block, or a short one. Inline spans
 * are names the question is about ("install `jax` and `jaxlib`", as 745 of the 1 998 paraphrase-eval texts have):
 * compared apart from them, the 38 of those texts mostly spans cost 8 correct hits of 857 there and saved no wrong one.
 */
export function proseOf(question: string): string | undefined {
  const prose = withoutCode(question, { spans: false });
  if (prose === question) return undefined;
  const words = prose.replace(/\s+/g, ' ').trim();
  return 2 * words.length < question.replace(/\s+/g, ' ').trim().length ? words.toLowerCase() : undefined;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Whether each stored question (`prompts`) asks what `question` asks outside their code, when code blocks dominate both
 * (`proseOf`; with code on one side only the vectors differ by the code already, and a paraphrase pasting the same code
 * unfenced, as 3 pairs of the paraphrase eval do, was a miss when compared so: 2 correct hits of 857): the code
 * dominates their vectors (a snippet of 10-20 lines against a question of 5 words), so different questions about one
 * snippet scored 0.92-0.97 with USE lite, and a question after the code 1.0 (the model reads the start of a long text),
 * and 2 098 of 2 400 such pairs were served each other's answer at 0.85. Their words outside the code are embedded
 * apart (one call, the distinct texts only) and must score `threshold` or more; the same words agree without an
 * embedding, and words on one side only ("Why?" and none) do not. Undefined when the question or every stored one has
 * no dominating code (nothing embedded). Each verdict is by stored question text.
 */
export async function proseAgreement(
  embedder: Pick<Embedder, 'embed'>,
  question: string,
  prompts: readonly string[],
  threshold: number,
  options?: EmbedOptions,
): Promise<((prompt: string) => boolean) | undefined> {
  const mine = proseOf(question);
  if (mine === undefined) return undefined;
  const pairs = new Map<string, string>();
  for (const prompt of prompts) {
    const stored = proseOf(prompt);
    if (stored !== undefined) pairs.set(prompt, stored);
  }
  if (pairs.size === 0) return undefined;
  const texts = [...new Set([mine, ...pairs.values()])].filter((t) => t !== '');
  const needed = [...pairs.values()].some((t) => t !== mine && t !== '' && mine !== '');
  const vectors = new Map<string, Float32Array>();
  if (needed) {
    const embedded = await embedder.embed(texts, options);
    texts.forEach((t, i) => vectors.set(t, embedded[i]!));
  }
  const verdicts = new Map<string, boolean>();
  for (const [prompt, stored] of pairs) {
    verdicts.set(prompt, stored === mine || (stored !== '' && mine !== '' && cosine(vectors.get(mine)!, vectors.get(stored)!) >= threshold));
  }
  return (prompt) => verdicts.get(prompt) ?? true;
}
