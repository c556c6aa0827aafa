import type { SemanticGuardAdaptation, SemanticGuardInput, SemanticGuardVerdict } from './semantic-cache.js';
import type { Cost } from '../router/types.js';
import type { FinishReason, GenerateRequest, Usage } from '../spec/index.js';

/** What a guard's call is made for: the lookup's signal, tenant and live call's id. */
export interface GuardCallOptions {
  signal?: AbortSignal;
  tenant?: string;
  requestId?: string;
}

/**
 * Anything that answers a request: a router's `generate` (which reports its `cost` and `usage`), or an engine's. Its
 * `finishReason`, when given, tells `adapt` whether the rewrite is complete.
 */
export type GuardGenerate = (request: GenerateRequest, options?: GuardCallOptions) => Promise<{ text: string; cost?: Cost; usage?: Usage; finishReason?: FinishReason }>;

function opts(input: SemanticGuardInput): GuardCallOptions | undefined {
  if (!input.signal && input.tenant === undefined && input.requestId === undefined) return undefined;
  return {
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.tenant !== undefined ? { tenant: input.tenant } : {}),
    ...(input.requestId !== undefined ? { requestId: input.requestId } : {}),
  };
}

/**
 * The output cap of an `adapt` call: the live request's `maxTokens`, else the cached answer's output tokens with
 * a margin (a quarter more, and 16) for the rewording, so a guard call's cost has a bound.
 */
export function adaptMaxTokens(input: Pick<SemanticGuardInput, 'maxTokens' | 'answer'>): number {
  if (input.maxTokens !== undefined) return input.maxTokens;
  const out = input.answer.usage.outputTokens;
  return Math.ceil((Number.isFinite(out) && out > 0 ? out : 0) * 1.25) + 16;
}

/** A model guard's `verify` and `adapt`: they return the guard call's cost (and tokens) with the decision. */
export interface ModelGuard {
  verify(input: SemanticGuardInput): Promise<SemanticGuardVerdict>;
  adapt(input: SemanticGuardInput): Promise<SemanticGuardAdaptation>;
}

/**
 * A guard that asks a (cheap) model: `verify` whether the cached answer answers the new question
 * (YES/NO, at most 3 tokens), `adapt` to rewrite it for the new question (at most `adaptMaxTokens`). Both at
 * temperature 0. Each returns the call's `cost` and `usage` when `generate` reported them (a router's does); `adapt` also its
 * `finishReason` (the cache serves only a rewrite that ended with `stop`). `verify` says NO without a call to an
 * answer with tool calls: its prompt shows the answer's text only, and the calls' arguments (e.g. the city of a
 * weather lookup) are what a paraphrase most often changes.
 */
export function createModelGuard(generate: GuardGenerate): ModelGuard {
  return {
    async verify(input) {
      if (input.answer.toolCalls.length > 0) return { ok: false };
      const { text, cost, usage } = await generate(
        {
          temperature: 0,
          maxTokens: 3,
          messages: [
            { role: 'system', content: 'You check a cache. Reply with exactly YES if the answer fully and correctly answers the new question, else NO.' },
            // A refusal is the answer's words too (kept apart from `text`): the guard judges what a hit would serve.
            { role: 'user', content: `New question: ${input.question}\nCached question: ${input.cachedQuestion}\nAnswer: ${input.answer.text}${input.answer.refusal ?? ''}` },
          ],
        },
        opts(input),
      );
      return { ok: /^\s*yes\b/i.test(text), ...(cost ? { cost } : {}), ...(usage ? { usage } : {}) };
    },
    async adapt(input) {
      const { text, cost, usage, finishReason } = await generate(
        {
          temperature: 0,
          maxTokens: adaptMaxTokens(input),
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
      return { text, ...(cost ? { cost } : {}), ...(usage ? { usage } : {}), ...(finishReason !== undefined ? { finishReason } : {}) };
    },
  };
}
