import type { CascadeConfig } from '../../config/schema.js';
import type { LLMError } from '../../errors/llm-error.js';
import type { CallWarning, GenerateRequest, Usage } from '../../spec/index.js';
import type { Cost, RouteDecision, RouterResult } from '../types.js';

/** What a verifier is told besides the request and the weak answer. */
export interface CascadeVerifierContext {
  /** The cascade's name. */
  cascade: string;
  /** The caller's abort signal, when it gave one. */
  signal?: AbortSignal;
}

/**
 * A verifier's score with what reaching it cost: a verifier that pays for its judgement (a call to a judge model,
 * e.g. through the router's `generate`, whose result has the `cost` and the `usage`) returns it here, and the
 * cascade's result (`cost`, `cascade.verifierCost`, `cascade.verifierUsage`), a failed cascade's error
 * (`details.cascade.verifierCost`, `details.cascade.verifierUsage`) and a cascade stream's `spent()` (`verifierUsage`)
 * carry it, so the gateway bills its cost and counts its tokens (ledger row, tokens-per-minute charge). A gateway's
 * budget reservation and tokens-per-minute estimate bound the judgement only when the verifier declares its
 * `bound` (`CascadeVerifierBound`); otherwise it is recorded and settled after the fact.
 */
export interface CascadeVerdict {
  score: number;
  cost?: Cost;
  /** The judgement's tokens (its `inputTokens` and `outputTokens` counts, non-negative numbers). */
  usage?: Usage;
}

/**
 * The most one judgement of a custom verifier can use, declared on the verifier function (`verifier.bound`), for a
 * consumer to reserve before the call (the gateway's budget reservation and tokens-per-minute estimate), as it
 * bounds a semantic guard call: a prompt of `promptTokens` (the verifier's own instructions) plus the request's
 * prompt plus twice the weak answer's output bound, priced at `price.input`, and at most `outputTokens` of output
 * at `price.output` (USD per 1M tokens, as `ModelPrice`). `models()` shows it (`CascadeInfo.verifierBound`).
 */
export interface CascadeVerifierBound {
  promptTokens: number;
  outputTokens: number;
  price: { input: number; output: number };
}

/**
 * Scores a complete weak answer: higher means "more likely wrong"; the cascade calls the strong model when
 * the score is at or above its threshold. It returns the score, or the score with its cost (`CascadeVerdict`).
 * A verifier that throws, or returns something other than a number (NaN included) or a verdict holding one (with
 * no cost, or a cost that is one: `reportedCost`, no negative, NaN or infinite amount), fails the call with a typed
 * `LLMError` (`internal`, unless it threw an `LLMError`).
 */
export type CascadeVerifier = ((request: GenerateRequest, weak: RouterResult, context: CascadeVerifierContext) => number | CascadeVerdict | Promise<number | CascadeVerdict>) & {
  /** What one judgement can use at most (see `CascadeVerifierBound`), when the verifier pays for it and says so. */
  bound?: CascadeVerifierBound;
};

/** One call a cascade made. */
export interface CascadeStep {
  /** The step's own request id (`<requestId>:weak`, `<requestId>:strong`), as in its router events. */
  requestId: string;
  deployment: string;
  model: string;
  provider: string;
  usage: Usage;
  cost: Cost;
  /**
   * The part of `cost` paid for the step's failed attempts and the hedge lanes that answered with its answer (its
   * `RouterResult.failedAttemptsCost`, each on its own deployment in the result's `failedAttempts`), when there were
   * any: a consumer that counts spend per deployment takes it out of the step's (the gateway's `model=` metrics).
   */
  failedAttemptsCost?: Cost;
  /** The tokens of the step's semantic guard call, when it paid one that reported them (its `RouterResult.guardUsage`). */
  guardUsage?: Usage;
  latencyMs: number;
  cached: false | 'exact' | 'semantic';
  /** With `explain: true`: the step's routing decision. */
  decision?: RouteDecision;
  /**
   * The step's own warnings (its `RouterResult.warnings`), when it had any. The cascade's result carries only
   * the answering step's; a weak answer that was escalated away keeps its warnings here.
   */
  warnings?: CallWarning[];
}

/** How a cascade answered (on `RouterResult.cascade`). */
export interface CascadeRecord {
  /** The cascade's name (the model the caller asked for). */
  name: string;
  verifier: string;
  threshold: number;
  /** The verifier's score of the weak answer. */
  score: number;
  /** What the verifier's judgement cost, when it reported a cost (`CascadeVerdict.cost`): part of the result's `cost`. */
  verifierCost?: Cost;
  /** The judgement's tokens, when the verifier reported them (`CascadeVerdict.usage`): not in the result's `usage`. */
  verifierUsage?: Usage;
  /** The score was at or above the threshold: the strong model was called. */
  escalated: boolean;
  weak: CascadeStep;
  /** The strong call, when it was made and succeeded. */
  strong?: CascadeStep;
  /**
   * Escalated, but the strong call failed and the cascade's `onStrongFailure: 'weak'` returned the weak
   * answer: why the strong call failed. The answer is then the one the verifier flagged.
   */
  strongError?: LLMError;
}

/** A cascade as `models()` describes it (`DeploymentInfo.cascade`). */
export type CascadeInfo = Pick<CascadeConfig, 'weak' | 'strong' | 'verifier' | 'verifierModel' | 'onStrongFailure'> & {
  /** The threshold in force (the verifier's default when the config gives none). */
  threshold: number;
  /** A custom verifier's declared bound (`CascadeVerifier.bound`), when it has one. */
  verifierBound?: CascadeVerifierBound;
};
