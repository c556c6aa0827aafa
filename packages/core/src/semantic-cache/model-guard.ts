import type { SemanticGuard, SemanticGuardInput } from './semantic-cache.js';
import type { GenerateRequest } from '../spec/index.js';

/** Anything that answers a request: a router's `generate`, or an engine's. */
export type GuardGenerate = (request: GenerateRequest, options?: { signal?: AbortSignal }) => Promise<{ text: string }>;

function opts(input: SemanticGuardInput): { signal?: AbortSignal } | undefined {
  return input.signal ? { signal: input.signal } : undefined;
}

/**
 * A guard that asks a (cheap) model: `verify` whether the cached answer answers the new question
 * (YES/NO), `adapt` to rewrite it for the new question. Both at temperature 0.
 */
export function createModelGuard(generate: GuardGenerate): Required<SemanticGuard> {
  return {
    async verify(input) {
      const { text } = await generate(
        {
          temperature: 0,
          maxTokens: 3,
          messages: [
            { role: 'system', content: 'You check a cache. Reply with exactly YES if the answer fully and correctly answers the new question, else NO.' },
            { role: 'user', content: `New question: ${input.question}\nCached question: ${input.cachedQuestion}\nAnswer: ${input.answer.text}` },
          ],
        },
        opts(input),
      );
      return /^\s*yes\b/i.test(text);
    },
    async adapt(input) {
      const { text } = await generate(
        {
          temperature: 0,
          messages: [
            {
              role: 'system',
              content: 'Rewrite the answer so it answers the new question. Keep facts from the answer; change only what the new question asks differently. Reply with the rewritten answer only.',
            },
            { role: 'user', content: `New question: ${input.question}\nOriginal question: ${input.cachedQuestion}\nAnswer: ${input.answer.text}` },
          ],
        },
        opts(input),
      );
      return text;
    },
  };
}
