import { LRUCache } from 'lru-cache';
import type { CacheScope } from '../cache/cache-key.js';
import { cachedAnswerOf, isBlankAnswer, type CachedAnswer, type CachedAnswerInput } from '../cache/cached-answer.js';
import { isCacheable } from '../cache/is-cacheable.js';
import { SemanticCacheSchema, type SemanticCacheConfig, type SemanticCacheConfigInput } from '../config/schema.js';
import { embedderInputLength, type EmbedOptions, type Embedder, type EmbedderCoverage } from '../embeddings/embedder.js';
import { sharedLocalUseEmbedder } from '../embeddings/shared-local-use-embedder.js';
import { foldAccents } from '../embeddings/use-lite-coverage.js';
import { LLMError } from '../errors/llm-error.js';
import { abortError } from '../errors/to-llm-error.js';
import { sectionConfigError } from '../config/validate.js';
import { reportedCost } from '../router/reported-cost.js';
import type { Cost } from '../router/types.js';
import type { FinishReason, GenerateRequest, Usage } from '../spec/index.js';
import { raceAbort } from '../util/abort.js';
import { sameWording } from './lexical-similarity.js';
import { MemorySemanticStore, semanticEntryBytes } from './memory-semantic-store.js';
import { promptTextBytes } from './model-guard.js';
import { proseAgreement } from './prose-agreement.js';
import { selectMatch, type MatchSelectionOptions, type RankedMatch } from './select-match.js';
import { namespaceMaterial, namespaceOf, questionOf } from './semantic-namespace.js';
import type { SemanticMatch, SemanticStore } from './semantic-store.js';
import { userKey } from './user-key.js';

/** What a guard sees for a match between the threshold and `guardAbove`, or an ambiguous one. */
export interface SemanticGuardInput {
  question: string;
  cachedQuestion: string;
  answer: CachedAnswer;
  score: number;
  signal?: AbortSignal;
  /** The tenant of the lookup (its scope's), for a guard that calls a model on the tenant's behalf. */
  tenant?: string;
  /** The id of the call the lookup serves (`SemanticLookupOptions.requestId`), when given. */
  requestId?: string;
  /** The live request's `maxTokens`, when it set one (a model guard's `adapt` answers in at most that many). */
  maxTokens?: number;
  /**
   * The UTF-8 bytes of the live request's message text (its prompt without framing, tools or images), when known: a
   * model guard shows at most that much of the cached question (`shownCachedQuestion`), so its prompt is bounded by
   * the live request's. Absent: the live question's bytes.
   */
  promptBytes?: number;
}

/** A guard's decision with what reaching it cost (a model guard's provider call: its cost and its tokens). */
export interface SemanticGuardVerdict {
  ok: boolean;
  cost?: Cost;
  /** The guard call's tokens, when it reports them (kept with its `cost`: a call that reports no cost is not spend). */
  usage?: Usage;
}

/** An adapted answer with what adapting it cost (a model guard's provider call). */
export interface SemanticGuardAdaptation {
  text: string;
  cost?: Cost;
  /** The rewrite call's tokens, when it reports them (kept with its `cost`, as `SemanticGuardVerdict.usage`). */
  usage?: Usage;
  /**
   * How the guard's call ended, when it says: a rewrite that did not end with `stop` (cut at its output cap,
   * content-filtered, failed) is not served. Absent: taken as complete.
   */
  finishReason?: FinishReason;
}

/**
 * Checks (`verify`) or rewrites (`adapt`) a cached answer for a close-but-not-identical question. A guard that
 * pays for its check (a model call) returns the verdict or text with its `cost`: a hit served through it
 * carries that cost (`SemanticHit.guardCost`). A cost that is not one (a negative, NaN or infinite amount: see
 * `reportedCost`) fails the check, as a guard that throws does: a miss.
 */
export interface SemanticGuard {
  verify?(input: SemanticGuardInput): Promise<boolean | SemanticGuardVerdict>;
  /** The answer text adapted to the new question. */
  adapt?(input: SemanticGuardInput): Promise<string | SemanticGuardAdaptation>;
}

export interface SemanticHit {
  kind: 'semantic';
  answer: CachedAnswer;
  /** Cosine similarity of the question and the cached question. */
  score: number;
  cachedQuestion: string;
  /** The ranking score that chose it (`hybrid`: cosine mixed with lexical similarity; `cosine`: the cosine). */
  rankScore: number;
  /** How far it beat the runner-up stored question in ranking score (absent when there was none). */
  margin?: number;
  /** How the guard let it through, when the score was below `guardAbove` or the match was ambiguous. */
  guarded?: 'verified' | 'adapted';
  /** What the guard's check cost, when it reported a cost (a model guard's call to `guardModel`). */
  guardCost?: Cost;
  /** The tokens of that guard call, when it reported them with its cost (`guardModel`'s, not the answer's). */
  guardUsage?: Usage;
}

/** Why a lookup ended as it did (`SemanticLookupOptions.details`). */
export type SemanticLookupOutcome = 'bypassed' | 'empty' | 'below-threshold' | 'served' | 'guard-band' | 'ambiguous' | 'mismatch';

/** Filled by `lookup` when passed in `SemanticLookupOptions.details`: the candidates and the decision. */
export interface SemanticLookupDetails {
  outcome?: SemanticLookupOutcome;
  /** The nearest stored questions in the store's order (cosine, best first), with their ranking scores. */
  candidates?: Array<RankedMatch<SemanticMatch>>;
  margin?: number;
  threshold?: number;
}

export interface SemanticLookupOptions {
  /** Overrides the threshold (per route); else the tenant's, else `config.threshold`. */
  threshold?: number;
  /** A precomputed embedding of the question's `embeddingInput` (the caller batched it); skips the embedder. */
  embedding?: Float32Array;
  signal?: AbortSignal;
  /** The id of the call the lookup serves: passed to the guard (a model guard marks its call with it). */
  requestId?: string;
  /** Per-call opt-out (e.g. a request header). */
  optOut?: boolean;
  /**
   * A match the guard would judge (ambiguous, mismatched, in the guard band) is a miss without asking the guard, as
   * with guard `miss` (a cache-only call, which may pay for no guard call). Counted in `unguardedMisses`, not in
   * `guardMisses` (the guard did not turn it down).
   */
  noGuard?: boolean;
  /** Filled with where the time went: embedding, and search in the store (with the re-ranking). */
  timings?: { embedMs?: number; searchMs?: number };
  /** Filled with the candidates and the decision (evaluation, debugging). */
  details?: SemanticLookupDetails;
  /**
   * Filled with what a paid guard check cost when it did not let the match through (`verify` said NO, a rewrite
   * was blank or incomplete): a miss that still made a provider call, which the caller pays on top of its own
   * answer. (A hit's guard cost is `SemanticHit.guardCost`.) Left untouched when no guard call was paid.
   */
  spent?: SemanticLookupSpend;
}

/**
 * `SemanticLookupOptions` with what only the paraphrase eval sets (not re-exported: `index.ts` names what it exports).
 * @internal
 */
export interface EvalLookupOptions extends SemanticLookupOptions {
  /**
   * The score the words outside Markdown code must reach when code dominates a question (`proseAgreement`); default the
   * lookup's threshold (the eval looks up at threshold 0 and decides each threshold after).
   */
  proseThreshold?: number;
}

/** See `SemanticLookupOptions.spent`. */
export interface SemanticLookupSpend {
  /** The cost of the guard call that turned the match into a miss, when the guard reported one. */
  guardCost?: Cost;
  /** That guard call's tokens, when it reported them with its cost. */
  guardUsage?: Usage;
}

export interface SemanticStoreCallOptions {
  /** End user, for per-user erasure (default: the request's `user`); kept as its `userKey` (a fixed-size hash). */
  user?: string;
  /** The answer was redacted by compliance rules: stored only when `allowRedacted`. */
  redacted?: boolean;
  embedding?: Float32Array;
  optOut?: boolean;
  signal?: AbortSignal;
  /**
   * Whether a tenant's cached answers were erased (a deleted tenant): its answer is then not stored. Asked before
   * and again after the embedding (the tenant may be deleted meanwhile).
   */
  erased?: (tenant: string) => boolean;
}

export interface SemanticCacheStats {
  hits: number;
  misses: number;
  stores: number;
  /**
   * Not looked up or not stored: opt-out, temperature rule, a request asking for log probabilities, no text
   * question, a question longer than the embedder takes, one its vocabulary mostly does not cover (`lowCoverage`) or
   * one in a language its vectors do not tell apart (`EmbedderCoverage.otherLanguage`),
   * failed/filtered/redacted answer.
   */
  bypassed: number;
  /**
   * Matches in the guard band, ambiguous or mismatched ones turned into misses (guard `miss`, a failed verify, a guard error,
   * an empty or incomplete rewrite, an answer with tool calls, or one `adapt` cannot rewrite).
   */
  guardMisses: number;
  /**
   * Matches the guard would have judged, turned into misses without asking it (`SemanticLookupOptions.noGuard`: a
   * cache-only call, which may pay for no guard call). Not in `guardMisses`; in `misses`.
   */
  unguardedMisses: number;
  /** Matches at or above the threshold that the ambiguity rule (`minMargin`) sent to the guard. */
  ambiguous: number;
  verified: number;
  adapted: number;
}

export interface SemanticCacheOptions {
  /** `cache.semantic` from config (defaults applied). */
  config?: SemanticCacheConfigInput;
  /** Default: Universal Sentence Encoder lite in process, with batching and an embedding LRU. */
  embedder?: Embedder;
  /** Default: an in-process `MemorySemanticStore` capped at `maxEntries` and `maxSizeBytes`. */
  store?: SemanticStore;
  guard?: SemanticGuard;
  now?: () => number;
}

const NOT_STORABLE: ReadonlySet<FinishReason> = new Set<FinishReason>(['error', 'content-filter']);

/** A guard's reported cost: none (absent), or one (`reportedCost`); anything else fails the check (a miss). */
function checkedCost(cost: unknown): Cost | undefined {
  if (cost === undefined || cost === null) return undefined;
  const checked = reportedCost(cost);
  if (!checked) throw new LLMError({ code: 'internal', message: 'The semantic guard reported a cost that no call can cost (negative, NaN, infinite or too large)' });
  return checked;
}

/** A reported token count: a non-negative finite number, rounded (at most 2^53 - 1), else 0 (as the gateway's ledger takes it). */
function countOf(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.min(Math.round(n), Number.MAX_SAFE_INTEGER) : 0;
}

/**
 * A guard call's reported tokens when they are an object, else none, each count cleaned where it enters
 * (`countOf`; `totalTokens` their sum): a cascade sums its two guard calls' tokens, and one call's odd count
 * (negative, NaN) must not cancel the other's real ones.
 */
function usageOf(usage: unknown): Usage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  const u = usage as Record<string, unknown>;
  const inputTokens = countOf(u.inputTokens);
  const outputTokens = countOf(u.outputTokens);
  const clean: Usage = { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
  for (const key of ['cachedInputTokens', 'cacheWriteInputTokens', 'cacheWrite1hInputTokens', 'reasoningTokens'] as const) {
    if (u[key] !== undefined) clean[key] = countOf(u[key]);
  }
  return clean;
}

/** Fills a lookup's `spent` with a guard call that turned the match into a miss. */
function paid(spent: SemanticLookupSpend, cost: Cost, usage: Usage | undefined): void {
  spent.guardCost = cost;
  if (usage) spent.guardUsage = usage;
}

/**
 * Whether `adapt` may rewrite an answer: only its text is rewritten, so not one with tool calls (served with the
 * old question's arguments) nor with signed or encrypted reasoning blocks (sent back by the client's next turn as
 * the reasoning behind a text they never led to), nor a refusal (`refusal`: not text to rewrite). `verify` is asked about any answer: it receives the whole answer
 * (the model guard refuses one with tool calls, as its prompt shows the text only: `createModelGuard`).
 */
function adaptable(answer: CachedAnswer): boolean {
  return answer.toolCalls.length === 0 && answer.refusal === undefined && !(answer.reasoningParts ?? []).some((p) => p.signature !== undefined || p.redactedData !== undefined);
}

/**
 * Whether a match at or above the threshold answers a question it may not answer unguarded (the guard decides: a
 * miss by default): the questions name other numbers or differ in negation (`MatchSelection.conflict`), or the answer calls tools and the
 * questions are not the same text up to whitespace, case kept (`sameWording`: the calls' arguments are the other
 * question's: "for 2 people" replayed to "for 4 people", the weather in Paris to a question about Berlin, README.md
 * opened for a question about readme.md).
 */
function mismatched(question: string, conflict: boolean, match: SemanticMatch): boolean {
  return conflict || (match.answer.toolCalls.length > 0 && !sameWording(question, match.prompt));
}

/**
 * The cached answer with the rewritten text, without what described the old text: its reasoning (about the old
 * question) and the stop sequence it ended on (the guard's call has none).
 */
function adaptedAnswer(answer: CachedAnswer, text: string): CachedAnswer {
  const adapted: CachedAnswer = { ...answer, text };
  delete adapted.reasoning;
  delete adapted.reasoningParts;
  delete adapted.stopSequence;
  return adapted;
}

/**
 * Whether a semantic cache with `config` looks `request` up (and so may call its guard) for `tenant`: it is
 * enabled, the tenant is not in `optOutTenants`, the request is cacheable (the temperature rule) and asks for no
 * log probabilities. The rule `SemanticCache.lookup` and `store` apply; a call with the cache off (`cache: false`)
 * makes no lookup either. Absent fields take the config's defaults.
 */
export function semanticLookupEligible(
  request: GenerateRequest,
  config: { readonly enabled?: boolean; readonly optOutTenants?: readonly string[]; readonly allowNonZeroTemperature?: boolean },
  tenant: string | undefined,
): boolean {
  if (!config.enabled) return false;
  if (tenant !== undefined && config.optOutTenants?.includes(tenant)) return false;
  if (!isCacheable(request, { allowNonZeroTemperature: config.allowNonZeroTemperature === true })) return false;
  // Log probabilities describe the model's answer to this very prompt: another question's (a paraphrase's)
  // would be presented as this one's. Such requests use the exact cache only (its key covers `logprobs`).
  return request.logprobs === undefined;
}

/**
 * A question's text outside its embedder's vocabulary (`EmbedderCoverage.unknown`, read with its case kept): `runs`,
 * empty when it has none or it is not known.
 */
export interface UnknownText {
  runs: readonly string[];
  /**
   * The question's language when its embedder's vectors do not tell texts of it apart (`EmbedderCoverage.otherLanguage`):
   * only a stored question (one stored before the language rule) can have one, and it answers no question.
   */
  otherLanguage?: string;
  /**
   * Words whose letters outside the vocabulary were accented letters of letters it has, folded ("naive" for "naïve":
   * `EmbedderCoverage.folded`): not in `runs`; each must be a word of the other question, folded alike.
   */
  folded?: readonly string[];
}

/** A question the semantic cache looks up and stores, with its `unknown` text as its embedder reads it. */
export interface SemanticQuestion {
  text: string;
  unknown: UnknownText;
}

/**
 * The question a semantic cache with `config` and `embedder` looks up and stores for `request` and `tenant`, or
 * undefined when it skips the request (`SemanticCache.lookup`, `probe` and `store`; the prefetcher's "could this be
 * stored?"): `semanticLookupEligible`, a question, and one the embedder's vector tells from others (`embedderReading`).
 * The exact cache still serves a skipped question.
 * @internal
 */
export function semanticQuestion(
  request: GenerateRequest,
  config: Parameters<typeof semanticLookupEligible>[1],
  tenant: string | undefined,
  embedder: Pick<Embedder, 'maxInputChars' | 'inputLength' | 'coverage'>,
): SemanticQuestion | undefined {
  if (!semanticLookupEligible(request, config, tenant)) return undefined;
  const text = questionOf(request);
  if (text === undefined) return undefined;
  const unknown = embedderReading(embedder, text);
  return unknown === undefined ? undefined : { text, unknown };
}

/**
 * Whether a semantic cache built from `config` (as a router builds it: `createSemanticCache`) looks `request` up for
 * `tenant` (`semanticQuestion`), for a caller that prices a lookup before it is made (the gateway reserves a model
 * guard's call only for a question that can pay one). With the `local-use` embedder (the default) the question is read
 * by the process's (`defaultLocalEmbedder`, prepared first: its vocabulary and language detector load once); a
 * deployment embedder reports no coverage, so every eligible text question counts.
 */
export async function semanticLookupAsks(
  request: GenerateRequest,
  config: Parameters<typeof semanticLookupEligible>[1] & { readonly embedder?: string },
  tenant: string | undefined,
): Promise<boolean> {
  if (!semanticLookupEligible(request, config, tenant)) return false;
  const embedder: Pick<Embedder, 'maxInputChars' | 'inputLength' | 'coverage' | 'prepare'> = (config.embedder ?? 'local-use') === 'local-use' ? defaultLocalEmbedder() : {};
  if (embedder.prepare) await embedder.prepare();
  return semanticQuestion(request, config, tenant, embedder) !== undefined;
}

const NO_RUNS: readonly string[] = Object.freeze([]);
const NO_UNKNOWN: UnknownText = Object.freeze({ runs: NO_RUNS });

/**
 * How `embedder` reads `question`: undefined when its vector would not tell the question from others, else the
 * question's unknown text (`unknownText`). Not told apart: a question longer than the embedder embeds in full
 * (local-use: 8 000 characters after NFKC: it would get the vector of its start, and two questions that differ only
 * after the cut would be served each other's answer), and one its vocabulary mostly does not cover (`lowCoverage`:
 * local-use on Chinese, Russian, Greek... text gives unrelated questions one vector), and one in a language its vectors
 * do not tell texts apart in (`EmbedderCoverage.otherLanguage`: local-use on German, French...). The semantic cache skips such a
 * question (`semanticQuestion`); the prefetcher neither learns from it nor predicts after it. One rule for both.
 */
export function embedderReading(embedder: Pick<Embedder, 'maxInputChars' | 'inputLength' | 'coverage'>, question: string): UnknownText | undefined {
  const max = embedder.maxInputChars;
  if (max === undefined && !embedder.coverage) return NO_UNKNOWN;
  const input = embeddingInput(question);
  if (max !== undefined && embedderInputLength(embedder, input) > max) return undefined;
  const coverage = embedder.coverage?.(input, question);
  if (!coverage) return NO_UNKNOWN;
  return lowCoverage(coverage) || coverage.otherLanguage !== undefined ? undefined : unknownOf(coverage);
}

/**
 * A question's text outside `embedder`'s vocabulary: its embedding input (`embeddingInput`) segmented as the model
 * segments it, each unknown run's characters taken from the question with its case kept (NFKC applied, as the
 * embedder applies it); where lower-casing changes the number of characters (U+0130), the whole question is one run.
 */
export function unknownText(embedder: Pick<Embedder, 'coverage'>, question: string): UnknownText {
  return knownUnknownText(embedder, question) ?? NO_UNKNOWN;
}

/** `unknownText`, or undefined when the embedder's coverage is not known (not remembered: it may be known later). */
function knownUnknownText(embedder: Pick<Embedder, 'coverage'>, question: string): UnknownText | undefined {
  const coverage = embedder.coverage?.(embeddingInput(question), question);
  return coverage && readingOf(coverage);
}

/** A stored question's reading (`SemanticCache.#storedReading`); `generation`: read while languages could not be told. */
interface KeptReading {
  reading: UnknownText;
  generation?: number;
}

/** A coverage's unknown text, with its language when it is another (`EmbedderCoverage.otherLanguage`). */
function readingOf(coverage: EmbedderCoverage): UnknownText {
  const reading = unknownOf(coverage);
  return coverage.otherLanguage === undefined ? reading : { ...reading, otherLanguage: coverage.otherLanguage };
}

/** The runs to compare as they are, and the folded words of the others (`EmbedderCoverage.folded`, `foldedWords`). */
function unknownOf({ unknown, folded, foldedWords }: Pick<EmbedderCoverage, 'unknown' | 'folded' | 'foldedWords'>): UnknownText {
  if ((folded === undefined || folded.length === 0) && (foldedWords === undefined || foldedWords.length === 0)) return unknown.length === 0 ? NO_UNKNOWN : { runs: unknown };
  const foldedRuns = new Set((folded ?? []).map((f) => f.run));
  return { runs: foldedRuns.size === 0 ? unknown : unknown.filter((_, i) => !foldedRuns.has(i)), folded: [...(folded ?? []).map((f) => f.word), ...(foldedWords ?? [])] };
}

/**
 * Whether a stored question whose unknown text is `stored` (`unknownText`) may answer a question whose unknown text is
 * `asked`, as far as the embedder's unknown id goes: the same runs, in order (the vector does not show them: "What does
 * U+2264 mean?" and the same with U+2265 are one vector; U+03A3 and U+03C3 too, as the text is embedded lower-cased);
 * unknown text on one side only is a difference too ("What does the symbol mean?" against the same naming U+2264:
 * cosine 0.98), an emoji at a question's start or end included ("What does this emoji mean? <eggplant>" against the
 * same without it). A word with an accented letter the vocabulary does not have (`folded`: "naïve") must be a word of
 * the other question with its accents folded alike ("naive", "naïve"): given the two questions (`texts`), each side's
 * folded words are looked for among the other's words; without them, the folded words must be the same.
 */
export function sameUnknownText(asked: UnknownText, stored: UnknownText, texts?: { asked: string; stored: string }): boolean {
  if (asked.otherLanguage !== undefined || stored.otherLanguage !== undefined || !sameRuns(asked.runs, stored.runs)) return false;
  if (asked.folded === undefined && stored.folded === undefined) return true;
  if (!texts) return sameRuns(asked.folded ?? NO_RUNS, stored.folded ?? NO_RUNS);
  return allFoldedWords(asked.folded, texts.stored) && allFoldedWords(stored.folded, texts.asked);
}

/** Whether every word of `folded` is a word of `text` with its accents folded (`foldAccents`, lower-cased). */
function allFoldedWords(folded: readonly string[] | undefined, text: string): boolean {
  if (folded === undefined) return true;
  const words = new Set(foldAccents(text.normalize('NFKC').toLowerCase()).match(/\p{L}+/gu) ?? []);
  return folded.every((w) => words.has(w));
}

function sameRuns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((run, i) => run === b[i]);
}

/**
 * The least share of a question's letters and emoji that must lie inside multi-character vocabulary pieces
 * (`EmbedderCoverage.covered`). Measured with local-use (USE lite): each of the 1 998 texts of the GPTCache paraphrase
 * pairs is at 0.77 or above; of 9 468 English exam, maths and code prompts (the shared routing data) 99% are at 0.71
 * or above and 3 below 0.5 (short formulas of one-letter variables); Chinese (CMMLU, C-Eval: 4 821 prompts),
 * Japanese, Korean, Russian, Greek, Arabic, Hebrew, Hindi and Thai text is at or near 0.00 (unrelated Russian or
 * Greek questions scored up to 0.96). Latin-script languages score as English does (German 0.80-0.92): the language
 * rule tells them apart (`EmbedderCoverage.otherLanguage`).
 */
export const MIN_SEMANTIC_COVERAGE = 0.5;

/**
 * Whether an embedder's vectors cannot tell a text from others (`embedderReading` skips it): less than
 * `MIN_SEMANTIC_COVERAGE` of its letters and emoji lie inside multi-character vocabulary pieces. A text mostly
 * covered with some characters outside the vocabulary (an accented or Greek letter, a maths symbol, an emoji, a
 * Chinese word in an English question) is not: its unknown text is compared instead (`sameUnknownText`).
 */
export function lowCoverage(coverage: Pick<EmbedderCoverage, 'characters' | 'covered'>): boolean {
  return coverage.covered < MIN_SEMANTIC_COVERAGE * coverage.characters;
}

/** Parses `cache.semantic`, throwing `config_invalid` that names the field. */
export function parseSemanticCacheConfig(input: SemanticCacheConfigInput = {}): SemanticCacheConfig {
  const parsed = SemanticCacheSchema.safeParse(input);
  if (!parsed.success) {
    throw sectionConfigError(parsed.error, ['cache', 'semantic'], 'semantic cache config');
  }
  return parsed.data;
}

/**
 * The text the cache embeds for a question: the question lower-cased. USE lite embeds case: "convert 12 Miles
 * to km" and "Convert 12 miles to km" scored 0.73 (a miss); lower-cased, the same text is the same vector. Only
 * the embedding input: the stored question, the lexical re-ranking and the number rule see the text as asked.
 * A caller that embeds the question itself (`embedding`) embeds this text.
 */
export function embeddingInput(question: string): string {
  return question.toLowerCase();
}

/**
 * The default local embedder stack: USE lite, batched (32), with a 10,000-text LRU; the process's one
 * (`sharedLocalUseEmbedder`, shared with `intelligent`'s prompt embedder), whose `close()` leaves it open.
 */
export function defaultLocalEmbedder(): Embedder {
  return sharedLocalUseEmbedder();
}

/**
 * Answers a question already answered in other words. Looks in the request's namespace (tenant + model
 * set + sampling parameters + context: never across tenants) for the nearest cached questions, picks one
 * (`scoring`: cosine mixed with character-trigram similarity by default) and checks it: below `threshold`
 * (cosine) it is a miss; when another stored question fits about as well (`minMargin`) or the cosine is
 * in the optional band below `guardAbove`, or the match is a mismatch (other numbers in the question, a negation
 * flip, or an answer with tool calls to another question: `mismatched`), the guard decides (`miss`, `verify`, `adapt`); else the cached
 * answer is served. Callers run the exact cache first.
 */
export class SemanticCache {
  readonly config: SemanticCacheConfig;
  readonly embedder: Embedder;
  readonly backend: SemanticStore;
  readonly #guard: SemanticGuard | undefined;
  readonly #now: () => number;
  /** Namespace per canonical scope material (bounded to ~4 MB of keys): repeated contexts skip the SHA-256. */
  readonly #namespaces = new LRUCache<string, string>({ max: 1_000, maxSize: 4_000_000, sizeCalculation: (v, k) => k.length + v.length });
  /** Touches still on their way to the store (waited for by `close`). */
  readonly #pendingTouches = new Set<Promise<void>>();
  /** Stored questions' unknown text (`#storedReading`), by prompt: up to 1 000, and 4 000 000 characters of prompts. */
  readonly #readings = new LRUCache<string, KeptReading>({ max: 1_000, maxSize: 4_000_000, sizeCalculation: (_v, k) => Math.max(1, k.length) });
  /** Bumped when the embedder's coverage first tells languages again (`#languageKnownNow`): older language-unknown readings are stale. */
  #languageGeneration = 0;
  readonly #stats: SemanticCacheStats = { hits: 0, misses: 0, stores: 0, bypassed: 0, guardMisses: 0, unguardedMisses: 0, ambiguous: 0, verified: 0, adapted: 0 };

  constructor(options: SemanticCacheOptions = {}) {
    this.config = parseSemanticCacheConfig(options.config);
    this.#now = options.now ?? Date.now;
    this.#guard = options.guard;
    const need = this.config.guard === 'verify' ? 'verify' : this.config.guard === 'adapt' ? 'adapt' : undefined;
    if (need && typeof options.guard?.[need] !== 'function') {
      throw new LLMError({
        code: 'config_invalid',
        message: `cache.semantic.guard is "${need}" but no guard.${need} function was given (set cache.semantic.guardModel, or pass options.guard)`,
        param: 'cache.semantic.guard',
      });
    }
    if (!options.embedder && this.config.embedder !== 'local-use') {
      throw new LLMError({
        code: 'config_invalid',
        message: `cache.semantic.embedder "${this.config.embedder}" names a deployment: pass its engine as options.embedder (new EngineEmbedder(engine))`,
        param: 'cache.semantic.embedder',
      });
    }
    this.embedder = options.embedder ?? defaultLocalEmbedder();
    // What the embedder's coverage needs (local-use: its vocabulary, ~5 MB of heap, and its language detector, ~29 MB
    // and ~0.2 s) loads on the first question read (`#eligible` awaits it), not now: a cache that never reads one (a
    // CLI command's router, requests the cache skips) loads nothing. The gateway starts it at its own start.
    this.backend = options.store ?? new MemorySemanticStore({ maxEntries: this.config.maxEntries, maxSizeBytes: this.config.maxSizeBytes, now: this.#now });
  }

  get stats(): SemanticCacheStats {
    return { ...this.#stats };
  }

  /** The threshold that applies to a tenant. */
  thresholdFor(tenant: string | undefined): number {
    // An own property only: a tenant id such as "constructor" must not read Object.prototype (NaN would pass every check).
    const own = this.config.tenantThresholds;
    return tenant !== undefined && Object.hasOwn(own, tenant) ? own[tenant]! : this.config.threshold;
  }

  /**
   * The question to embed, or undefined when this request must not use the semantic cache (`semanticQuestion`), read
   * once the embedder has loaded what its coverage needs (`Embedder.prepare`: local-use's vocabulary and language
   * detector, loaded by the first request the cache may read, once: ~0.3 s). A `signal` that aborts during that wait
   * rejects the call at once (`aborted`, or `timeout`), as an abort while embedding does; the load goes on.
   */
  async #eligible(request: GenerateRequest, scope: CacheScope, optOut: boolean | undefined, signal?: AbortSignal): Promise<SemanticQuestion | undefined> {
    if (optOut || !semanticLookupEligible(request, this.config, scope.tenant)) return undefined;
    if (this.embedder.prepare) {
      const ready = this.embedder.prepare();
      if (!signal) await ready;
      else if (signal.aborted) throw abortError(signal);
      else await raceAbort(ready, signal).catch((e: unknown) => Promise.reject(signal.aborted ? abortError(signal) : e));
    }
    return semanticQuestion(request, this.config, scope.tenant, this.embedder);
  }

  async #namespace(request: GenerateRequest, scope: CacheScope): Promise<string> {
    const material = namespaceMaterial(request, scope, this.embedder.id);
    let ns = this.#namespaces.get(material);
    if (ns === undefined) {
      ns = await namespaceOf(material, scope.tenant);
      this.#namespaces.set(material, ns);
    }
    return ns;
  }

  /** `tenant`: the embedder's cache partition (`EmbedOptions.partition`: no vector is reused across tenants). */
  async #embed(question: string, given: Float32Array | undefined, signal: AbortSignal | undefined, tenant: string | undefined): Promise<Float32Array> {
    if (given) return given;
    const options: EmbedOptions | undefined = signal || tenant !== undefined ? { ...(signal ? { signal } : {}), ...(tenant !== undefined ? { partition: tenant } : {}) } : undefined;
    const [v] = await this.embedder.embed([embeddingInput(question)], options);
    return v!;
  }

  async lookup(request: GenerateRequest, scope: CacheScope, options: SemanticLookupOptions = {}): Promise<SemanticHit | undefined> {
    const details = options.details;
    const asked = await this.#eligible(request, scope, options.optOut, options.signal);
    if (asked === undefined) {
      this.#stats.bypassed++;
      if (details) details.outcome = 'bypassed';
      return undefined;
    }
    const question = asked.text;
    const t0 = performance.now();
    const vector = await this.#embed(question, options.embedding, options.signal, scope.tenant);
    const namespace = await this.#namespace(request, scope);
    const t1 = performance.now();
    const found = await this.backend.search(namespace, vector, this.#candidates);
    const threshold = options.threshold ?? this.thresholdFor(scope.tenant);
    const t2 = performance.now();
    const prose = await this.#proseAgreement(question, found, (options as EvalLookupOptions).proseThreshold ?? threshold, options.signal, scope.tenant);
    const t3 = performance.now();
    const selection = selectMatch(question, found, this.#selectionFor(asked, prose));
    const t4 = performance.now();
    if (options.timings) {
      options.timings.embedMs = t1 - t0 + (t3 - t2);
      options.timings.searchMs = t4 - t3 + (t2 - t1);
    }
    if (details) {
      details.threshold = threshold;
      // In the store's (cosine) order, ties as the index returned them.
      details.candidates = [...(selection?.ranked ?? [])].sort((a, b) => found.indexOf(a.candidate) - found.indexOf(b.candidate));
      if (selection) details.margin = selection.margin;
    }
    const best = selection?.best;
    if (!selection || !best || best.cosine < threshold) {
      this.#stats.misses++;
      if (details) details.outcome = selection ? 'below-threshold' : 'empty';
      return undefined;
    }
    const match = best.candidate;
    const hit: SemanticHit = {
      kind: 'semantic',
      answer: structuredClone(match.answer),
      score: match.score,
      cachedQuestion: match.prompt,
      rankScore: best.rank,
      ...(Number.isFinite(selection.margin) ? { margin: selection.margin } : {}),
    };
    const guardAbove = this.config.guardAbove;
    const mismatch = mismatched(question, selection.conflict, match);
    if (!selection.ambiguous && !mismatch && (guardAbove === undefined || match.score >= guardAbove)) {
      this.#stats.hits++;
      if (details) details.outcome = 'served';
      this.#touch(match.id);
      return hit;
    }
    if (selection.ambiguous) this.#stats.ambiguous++;
    if (details) details.outcome = selection.ambiguous ? 'ambiguous' : guardAbove !== undefined && match.score < guardAbove ? 'guard-band' : 'mismatch';
    const guarded = await this.#guarded(hit, question, scope.tenant, request, options);
    if (guarded) this.#touch(match.id);
    return guarded;
  }

  /**
   * Whether `lookup` would serve a cached answer without asking the guard: a match at or above the threshold,
   * not ambiguous, and not in the guard band. Side-effect free apart from embedding the question: no guard
   * call, no stats, no recency touch (a prefetcher's "already cached?" check, which must not pay for a guard
   * call nor count as a hit). A match the guard would have to judge counts as not cached.
   */
  async probe(request: GenerateRequest, scope: CacheScope, options: Pick<SemanticLookupOptions, 'threshold' | 'embedding' | 'signal' | 'optOut'> = {}): Promise<boolean> {
    const asked = await this.#eligible(request, scope, options.optOut, options.signal);
    if (asked === undefined) return false;
    const question = asked.text;
    const vector = await this.#embed(question, options.embedding, options.signal, scope.tenant);
    const found = await this.backend.search(await this.#namespace(request, scope), vector, this.#candidates);
    const threshold = options.threshold ?? this.thresholdFor(scope.tenant);
    const prose = await this.#proseAgreement(question, found, threshold, options.signal, scope.tenant);
    const selection = selectMatch(question, found, this.#selectionFor(asked, prose));
    const best = selection?.best;
    if (!selection || !best || best.cosine < threshold) return false;
    const guardAbove = this.config.guardAbove;
    return !selection.ambiguous && !mismatched(question, selection.conflict, best.candidate) && (guardAbove === undefined || best.candidate.score >= guardAbove);
  }

  /**
   * Marks a served entry as used, for least-recently-used eviction, without making the hit wait for it (a
   * shared store's round trip) or fail with it: a lost touch only makes the entry look older.
   */
  #touch(id: number): void {
    const touched = this.backend.touch?.(id);
    if (touched) {
      this.#pendingTouches.add(touched);
      touched.catch(() => {}).finally(() => this.#pendingTouches.delete(touched));
    }
  }

  /**
   * `selectMatch`'s options for a question: the config's, and with an embedder that reports coverage the rule that a
   * stored question must have the same unknown text (`sameUnknownText`: none when the question has none; passed
   * over as one naming other numbers is, a mismatch when none has).
   */
  #selectionFor(asked: SemanticQuestion, prose?: (prompt: string) => boolean): MatchSelectionOptions<SemanticMatch> {
    if (!this.embedder.coverage) return prose === undefined ? this.config : { ...this.config, agrees: (c) => prose(c.prompt) };
    // The question's text too: a stored question's folded words ("naïve") are looked for among its words.
    return {
      ...this.config,
      agrees: (c) => (prose === undefined || prose(c.prompt)) && sameUnknownText(asked.unknown, this.#storedReading(c.prompt), { asked: asked.text, stored: c.prompt }),
    };
  }

  /**
   * Whether each candidate at or above `threshold` asks what `question` asks outside their Markdown code, when either
   * has code (`proseAgreement`: the code dominates both vectors; their words outside it are embedded apart, one call);
   * undefined when none has code.
   */
  async #proseAgreement(question: string, found: readonly SemanticMatch[], threshold: number, signal: AbortSignal | undefined, tenant: string | undefined): Promise<((prompt: string) => boolean) | undefined> {
    const near = found.filter((c) => c.score >= threshold).map((c) => c.prompt);
    if (near.length === 0) return undefined;
    const options: EmbedOptions | undefined = signal || tenant !== undefined ? { ...(signal ? { signal } : {}), ...(tenant !== undefined ? { partition: tenant } : {}) } : undefined;
    return proseAgreement(this.embedder, question, near, threshold, options);
  }

  /**
   * A stored question's unknown text (`unknownText`), remembered per prompt (`#readings`): each lookup compares
   * it for up to `candidates` stored questions, and reading one is a tokenizer run (~0.02-0.5 ms for 130 characters,
   * 2-4 ms for 8 000).
   */
  #storedReading(prompt: string): UnknownText {
    const kept = this.#readings.get(prompt);
    if (kept !== undefined && (kept.generation === undefined || (kept.generation === this.#languageGeneration && !this.#languageKnownNow()))) return kept.reading;
    const coverage = this.embedder.coverage?.(embeddingInput(prompt), prompt);
    // Not known (local-use's vocabulary could not be read): compared as having none, and not remembered, so the
    // prompt is read again once the vocabulary can be.
    if (!coverage) return NO_UNKNOWN;
    const reading = readingOf(coverage);
    // A reading whose language could not be known (local-use's detector not loaded: eld not installed, or failing) is
    // remembered with the detector's generation: read again, its language found, once the detector loads.
    this.#readings.set(prompt, coverage.languageUnknown === true ? { reading, generation: this.#languageGeneration } : { reading });
    return reading;
  }

  /**
   * Whether the embedder's coverage tells languages now (its reading of the empty text is not `languageUnknown`: a
   * remembered reading, no tokenizer run); the first time it does after readings without one were kept, their
   * generation is over.
   */
  #languageKnownNow(): boolean {
    const probe = this.embedder.coverage?.('', '');
    if (!probe || probe.languageUnknown === true) return false;
    this.#languageGeneration++;
    return true;
  }

  /** How many nearest stored questions a lookup compares: 1 when neither re-ranking nor the ambiguity rule needs more. */
  get #candidates(): number {
    const c = this.config;
    const rerank = c.scoring === 'hybrid' && c.lexicalWeight > 0;
    return rerank || c.minMargin > 0 ? Math.max(2, c.candidates) : 1;
  }

  async #guarded(hit: SemanticHit, question: string, tenant: string | undefined, request: GenerateRequest, options: SemanticLookupOptions): Promise<SemanticHit | undefined> {
    if (options.noGuard) {
      this.#stats.unguardedMisses++;
      this.#stats.misses++;
      return undefined;
    }
    const maxTokens = request.maxTokens;
    const input: SemanticGuardInput = {
      question,
      cachedQuestion: hit.cachedQuestion,
      answer: hit.answer,
      score: hit.score,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(tenant !== undefined ? { tenant } : {}),
      ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      promptBytes: promptTextBytes(request),
    };
    try {
      if (this.config.guard === 'verify') {
        const verdict = await this.#guard!.verify!(input);
        const ok = typeof verdict === 'boolean' ? verdict : verdict.ok;
        const cost = typeof verdict === 'boolean' ? undefined : checkedCost(verdict.cost);
        const usage = cost && typeof verdict !== 'boolean' ? usageOf(verdict.usage) : undefined;
        if (ok) {
          this.#stats.verified++;
          this.#stats.hits++;
          return { ...hit, guarded: 'verified', ...(cost ? { guardCost: cost } : {}), ...(usage ? { guardUsage: usage } : {}) };
        }
        // A NO the guard paid for: the caller pays it on top of the answer it now fetches.
        if (cost && options.spent) paid(options.spent, cost, usage);
      }
      if (this.config.guard === 'adapt' && adaptable(hit.answer)) {
        const adapted = await this.#guard!.adapt!(input);
        const { text, cost: reported, usage: reportedUsage, finishReason } = typeof adapted === 'string' ? { text: adapted, cost: undefined, usage: undefined, finishReason: undefined } : adapted;
        const cost = checkedCost(reported);
        const usage = cost ? usageOf(reportedUsage) : undefined;
        // An empty, cut or filtered rewrite is no answer: a miss (its call paid for as a failed verify's is).
        if (text.trim() !== '' && (finishReason === undefined || finishReason === 'stop')) {
          this.#stats.adapted++;
          this.#stats.hits++;
          return { ...hit, answer: adaptedAnswer(hit.answer, text), guarded: 'adapted', ...(cost ? { guardCost: cost } : {}), ...(usage ? { guardUsage: usage } : {}) };
        }
        if (cost && options.spent) paid(options.spent, cost, usage);
      }
    } catch {
      // A failing guard is a miss, never a failed call.
    }
    this.#stats.guardMisses++;
    this.#stats.misses++;
    return undefined;
  }

  /**
   * Stores an answer under the request's question; returns whether it did. Never stored: failed or
   * content-filtered answers, blank ones (`isBlankAnswer`), redacted ones (unless `allowRedacted`), temperature > 0 (unless allowed),
   * opted-out tenants, erased ones (`options.erased`), requests asking for log probabilities, requests without a text question. An answer's
   * `logprobs` are never kept (they describe the model's answer to that exact prompt, not to a paraphrase).
   */
  async store(
    request: GenerateRequest,
    scope: CacheScope,
    answer: CachedAnswerInput,
    options: SemanticStoreCallOptions = {},
  ): Promise<boolean> {
    const question = (await this.#eligible(request, scope, options.optOut, options.signal))?.text;
    const erased = scope.tenant !== undefined ? options.erased : undefined;
    if (question === undefined || NOT_STORABLE.has(answer.finishReason) || isBlankAnswer(answer) || (options.redacted && !this.config.allowRedacted) || erased?.(scope.tenant!) === true) {
      this.#stats.bypassed++;
      return false;
    }
    const now = this.#now();
    const entry = cachedAnswerOf(answer, answer.createdAt ?? now);
    // Log probabilities belong to this very prompt, never to a paraphrase's answer: not kept (a caller may pass
    // a result that has them).
    delete entry.logprobs;
    const namespace = await this.#namespace(request, scope);
    const tenant = scope.tenant ?? '';
    const given = options.user ?? request.user;
    // A fixed-size key: the user id is any string the client sent, and is only ever compared (erasure).
    const user = given !== undefined ? userKey(given) : undefined;
    // Larger than the store's byte bound on its own (the vector aside, known once embedded): never kept, so not embedded.
    const bound = this.backend.maxSizeBytes;
    const bytes = bound === undefined ? 0 : semanticEntryBytes({ namespace, tenant, ...(user !== undefined ? { user } : {}), prompt: question, answer: entry, vector: { byteLength: 0 } });
    if (bytes > bound!) {
      this.#stats.bypassed++;
      return false;
    }
    const vector = await this.#embed(question, options.embedding, options.signal, scope.tenant);
    // The tenant may have been deleted (and its answers erased) while the question was embedded.
    if (erased?.(scope.tenant!) === true || (bound !== undefined && bytes + vector.byteLength > bound)) {
      this.#stats.bypassed++;
      return false;
    }
    await this.backend.add({
      namespace,
      tenant,
      ...(user !== undefined ? { user } : {}),
      prompt: question,
      vector,
      answer: structuredClone(entry),
      expiresAt: now + this.config.ttlMs,
    });
    this.#stats.stores++;
    return true;
  }

  /** Right to erasure: every entry of a tenant. */
  eraseTenant(tenant: string): Promise<number> {
    return this.backend.eraseTenant(tenant);
  }

  /**
   * Right to erasure: every entry stored for one user of a tenant (kept under the user's `userKey`; entries a persistent
   * store kept under the id itself, before user ids were hashed, go too).
   */
  async eraseUser(tenant: string, user: string): Promise<number> {
    const key = userKey(user);
    return (await this.backend.eraseUser(tenant, key)) + (key === user ? 0 : await this.backend.eraseUser(tenant, user));
  }

  clear(): Promise<void> {
    return this.backend.clear();
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#pendingTouches]);
    await this.backend.close();
    await this.embedder.close?.();
  }
}

