import type { SemanticGuardAdaptation, SemanticGuardInput, SemanticGuardVerdict } from './semantic-cache.js';
import type { Cost } from '../router/types.js';
import { messageText, type FinishReason, type GenerateRequest, type Usage } from '../spec/index.js';
import { utf8ByteLength } from '../util/utf8-byte-length.js';

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

/** The UTF-8 bytes of a request's message text (`SemanticGuardInput.promptBytes`). */
export function promptTextBytes(request: GenerateRequest): number {
  let bytes = 0;
  for (const m of request.messages) bytes += utf8ByteLength(messageText(m));
  return bytes;
}

/** What marks a cached question cut in a guard's prompt (`shownCachedQuestion`). */
const CUT = '...';

/**
 * How many times the live request's message text (UTF-8 bytes) a model guard shows of the cached question
 * (`shownCachedQuestion`): a budget that reserves for a guard call (the gateway's) counts the cached question as this
 * many times the request's prompt. Chosen so that a cut is rare: over the GPTCache paraphrase pairs (999 pairs, either
 * side cached), 1 cut 48% of matches, 1.25 4%, 1.5 0.45% (`tools/bench/guard-cut-rate.ts`).
 */
export const CACHED_QUESTION_FACTOR = 1.5;

/** Grapheme clusters, for a cut that keeps what the user wrote whole (made on the first cut). */
let graphemes: Intl.Segmenter | undefined;

/**
 * The cached question as a model guard's prompt shows it: at most `CACHED_QUESTION_FACTOR` times `input.promptBytes`
 * UTF-8 bytes (else times the live question's), cut at a grapheme boundary (an accent, a flag, an emoji sequence stays
 * whole) and ended with `...` when longer. So the guard's prompt has a bound in the live request's prompt (with its
 * instructions and the cached answer): a budget that reserves for the guard call from the live request (the gateway's)
 * covers it, however long the matched question was. A custom guard can show its own the same way.
 */
export function shownCachedQuestion(input: Pick<SemanticGuardInput, 'question' | 'cachedQuestion' | 'promptBytes'>): string {
  const text = input.cachedQuestion;
  const room = Math.floor(CACHED_QUESTION_FACTOR * (input.promptBytes ?? utf8ByteLength(input.question)));
  // (A UTF-8 character is at most 3 bytes per UTF-16 code unit: a short enough text needs no count.)
  if (text.length * 3 <= room || utf8ByteLength(text) <= room) return text;
  if (room < CUT.length) return '';
  let bytes = 0;
  let end = 0;
  const keep = room - CUT.length;
  while (end < text.length) {
    const c = text.charCodeAt(end);
    const pair = c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(end + 1) & 0xfc00) === 0xdc00;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > keep) break;
    bytes += size;
    end += pair ? 2 : 1;
  }
  if (end > 0) {
    // Back to the start of the grapheme the cut falls in. Whether `end` is a boundary depends on the text before it and
    // the character at it only: the prefix up to that character is segmented, not the whole question.
    const at = (graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(text.slice(0, end + 2)).containing(end);
    if (at !== undefined && at.index < end) end = at.index;
  }
  return text.slice(0, end) + CUT;
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
 * weather lookup) are what a paraphrase most often changes. Both show the cached question up to `CACHED_QUESTION_FACTOR`
 * times the live request's message text (`shownCachedQuestion`).
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
            { role: 'user', content: `New question: ${input.question}\nCached question: ${shownCachedQuestion(input)}\nAnswer: ${input.answer.text}${input.answer.refusal ?? ''}` },
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
            { role: 'user', content: `New question: ${input.question}\nOriginal question: ${shownCachedQuestion(input)}\nAnswer: ${input.answer.text}` },
          ],
        },
        opts(input),
      );
      return { text, ...(cost ? { cost } : {}), ...(usage ? { usage } : {}), ...(finishReason !== undefined ? { finishReason } : {}) };
    },
  };
}
