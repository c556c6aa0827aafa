import { LLMError } from '../errors/llm-error.js';
import { reportedUsageOf } from '../errors/reported-usage.js';
import { computeCost } from '../pricing/compute-cost.js';
import { estimateTokens } from '../pricing/estimate-tokens.js';
import { refusedAnswerDetails } from './refused-answer.js';
import type { CallOptions, EmbedCallOptions, EmbedResult, GenerateRequest, GenerateResult, Usage } from '../spec/index.js';
import type { AttemptScope } from './resilience/attempt-scope.js';
import type { AttemptDriver } from './resilience/run-attempts.js';
import { PrimingAttempts } from './stream-driver.js';
import type { Cost, StreamSpend } from './types.js';

/** `generateDriver`'s driver: what its failed attempts were billed, besides running them. */
export interface GenerateDriver extends AttemptDriver<GenerateResult> {
  /**
   * What the attempts that failed after their provider answered and billed them (an engine error carrying the usage
   * the provider reported, `REPORTED_USAGE`: Gemini's failed tool call) cost, at their deployments' prices, each
   * with its deployment (`PrimingAttempts.paid`, as a stream's attempts that failed after a `usage` part). Undefined
   * while none was.
   */
  paid(): StreamSpend | undefined;
}

/**
 * Runs `generate` on a deployment (its `maxTokens` clamp applied, and on a call of `tenant` the end-user ids and
 * prompt-cache key a deployment on the operator's account receives scoped to it: `RouterDeployment.requestFor`), raced against the attempt's abort (an engine given
 * the caller's signal itself, `shared`, settles when it aborts: no race); an engine
 * that reports its provider request tells the attempt's scope when it goes out (`AttemptScope.providerRequest`),
 * and when the provider's answer arrived (`AttemptScope.providerResponse`). An attempt whose error says what its
 * provider billed (`REPORTED_USAGE`) is billed as a stream's attempt that failed after a `usage` part is (`paid()`,
 * kept in a `PrimingAttempts` made at the first one), and the attempt after it is admitted first (`beforeAttempt`:
 * `GenerateOptions.beforeAttemptAfterSpend`).
 */
export function generateDriver(
  request: GenerateRequest,
  headers: Record<string, string> | undefined,
  beforeAttempt?: (billed: Cost) => Promise<void> | void,
  tenant?: string,
): GenerateDriver {
  let billed: PrimingAttempts | undefined;
  return {
    paid: () => billed?.paid,
    failed(d, error) {
      const usage = reportedUsageOf(error);
      if (usage) (billed ??= new PrimingAttempts(beforeAttempt)).failedAfterUsage(d, usage);
    },
    admit: () => billed?.admit(),
    takesSharedSignal: true,
    run(d, scope, shared) {
      const engine = d.engine();
      const signal = scope ? scope.signal : shared;
      const options: CallOptions | undefined = signal ? (headers ? { signal, headers } : { signal }) : headers ? { headers } : undefined;
      if (scope && engine.reportsProviderRequest === true) options!.onProviderRequest = scope.providerRequest();
      const onResponse = scope?.providerResponse();
      if (onResponse) options!.onProviderResponse = onResponse;
      const answer = engine.generate(d.requestFor(request, tenant), options);
      // Race the abort too, so a timeout holds even against an engine slow to honour its signal.
      return scope ? scope.race(answer) : answer;
    },
    // A hedge lane's answer that came after the winner's: what its provider reported it billed (none reported: none known).
    billedUsage: (answer) => (answer.usage && answer.usage.totalTokens > 0 ? answer.usage : undefined),
  };
}

/**
 * Runs `embed` on a deployment, `embedTokens` for token ids (with `dimensions` and `user` when the call sets them: on a call
 * of `tenant`, a deployment on the operator's account gets `user` as its `tenantScopedId`: `RouterDeployment.userFor`); an answer that does not have one vector per
 * input, all of one length, fails the attempt (`invalid_response`), and so does one whose vectors are not `dimensions` long (the provider ignored it: the
 * answer, which may be billed, is not requested again).
 */
export function embedDriver(checked: CheckedEmbedInput, headers: Record<string, string> | undefined, dimensions?: number, user?: string, tenant?: string): AttemptDriver<EmbedResult> {
  const input = checked.input;
  return {
    // A hedge lane's answer that came after the winner's: billed as the winner's is (`embedUsage`).
    billedUsage: (answer) => embedUsage(answer.usage, embedInputTokens(checked), checked.tokens),
    async run(d, scope: AttemptScope | undefined) {
      const engine = d.engine();
      const method = checked.tokens ? 'embedTokens' : 'embed';
      if (typeof engine[method] !== 'function') {
        const param = checked.tokens ? { param: 'input' } : {};
        throw new LLMError({ code: 'unsupported', message: `Deployment "${d.name}" has no ${method}()`, deployment: d.name, provider: d.provider, ...param });
      }
      if (dimensions !== undefined && engine.embedDimensions !== true) {
        throw new LLMError({ code: 'unsupported', message: `Deployment "${d.name}" cannot set the vectors' dimensions`, deployment: d.name, provider: d.provider, param: 'dimensions' });
      }
      const options: EmbedCallOptions = {};
      if (scope) options.signal = scope.signal;
      if (headers) options.headers = headers;
      if (dimensions !== undefined) options.dimensions = dimensions;
      // The operator's account gets a tenant's end-user id scoped to the tenant, as on generate (`RouterDeployment.requestFor`).
      if (user !== undefined) options.user = d.userFor(user, tenant);
      const onResponse = scope?.providerResponse();
      if (onResponse) options.onProviderResponse = onResponse;
      const given = scope || headers || dimensions !== undefined || user !== undefined ? options : undefined;
      const pending = checked.tokens ? engine.embedTokens!(checked.input, given) : engine.embed!(checked.input, given);
      const answer = await (scope ? scope.race(pending) : pending);
      const vectors = (answer as Partial<EmbedResult> | undefined)?.embeddings;
      // One length throughout: vectors of different lengths cannot all be the model's (a broken answer or proxy).
      const length = Array.isArray(vectors) && Array.isArray(vectors[0]) ? vectors[0].length : 0;
      if (!Array.isArray(vectors) || vectors.length !== input.length || length === 0 || !vectors.every((v) => Array.isArray(v) && v.length === length)) {
        const got = !Array.isArray(vectors)
          ? 'no embeddings array'
          : vectors.length !== input.length
            ? `${vectors.length} vectors`
            : length === 0
              ? 'an empty or non-array first vector'
              : 'vectors of different lengths';
        throw new LLMError({
          code: 'invalid_response',
          message: `Deployment "${d.name}" answered embed() with ${got} for ${input.length} inputs`,
          deployment: d.name,
          provider: d.provider,
        });
      }
      if (dimensions !== undefined) {
        const wrong = vectors.find((v) => v.length !== dimensions);
        if (wrong) {
          // The deployment cannot do what the call asks (as one that declares no `embedDimensions`): `unsupported`,
          // no strike on its circuit, and not requested again (the answer was billed). What its provider reported
          // it billed goes with the error (`details[REFUSED_ANSWER]`), so a ledger can record it.
          // Priced as the answer taken would be (`embedUsage`: no output tokens), under a key no error body can hold.
          const reported = (answer as Partial<EmbedResult>).usage;
          const n = reported?.inputTokens;
          const usage = typeof n === 'number' && Number.isFinite(n) && n >= 0 ? embedUsage(reported, n) : undefined;
          const billed = usage ? refusedAnswerDetails({ usage, cost: computeCost(usage, d.price) }) : undefined;
          throw new LLMError({
            code: 'unsupported',
            message: `Deployment "${d.name}" answered vectors of ${wrong.length} dimensions for dimensions ${dimensions}: its provider ignored dimensions (the answer is lost and was not requested again, as it was billed)`,
            deployment: d.name,
            provider: d.provider,
            param: 'dimensions',
            afterResponse: true,
            isRetryable: false,
            ...(billed ? { details: billed } : {}),
          });
        }
      }
      return answer;
    },
  };
}

/** An embed input's tokens: token ids count as their length, texts as estimated (`estimateTokens`). */
export function embedInputTokens(checked: CheckedEmbedInput): number {
  let n = 0;
  for (const t of checked.input) n += typeof t === 'string' ? estimateTokens(t) : t.length;
  return n;
}

/** A checked `embed` input: texts, or token ids (one non-empty array of non-negative integers per input). */
export type CheckedEmbedInput = { readonly tokens: false; readonly input: string[] } | { readonly tokens: true; readonly input: number[][] };

/**
 * `embed` input: a string or a non-empty array of strings; or token ids: one array of non-negative integers (one
 * input) or a non-empty array of them, each non-empty. A bad element is an `invalid_request` naming it (`input.2.5`).
 */
export function embedInput(input: unknown): CheckedEmbedInput {
  if (typeof input === 'string') return { tokens: false, input: [input] };
  if (!Array.isArray(input) || input.length === 0) {
    throw new LLMError({ code: 'invalid_request', message: 'input must be a string, a non-empty array of strings, or token ids (arrays of integers)', param: 'input' });
  }
  const first: unknown = input[0];
  if (typeof first === 'number') {
    checkTokenIds(input, 'input');
    return { tokens: true, input: [input as number[]] };
  }
  if (Array.isArray(first)) {
    for (let i = 0; i < input.length; i++) {
      const ids: unknown = input[i];
      if (!Array.isArray(ids) || ids.length === 0) {
        throw new LLMError({ code: 'invalid_request', message: `input.${i} must be a non-empty array of token ids, got ${describe(ids)}`, param: `input.${i}` });
      }
      checkTokenIds(ids, `input.${i}`);
    }
    return { tokens: true, input: input as number[][] };
  }
  for (let i = 0; i < input.length; i++) {
    if (typeof input[i] !== 'string') {
      throw new LLMError({ code: 'invalid_request', message: `input.${i} must be a string, got ${describe(input[i])}`, param: `input.${i}` });
    }
  }
  return { tokens: false, input: input as string[] };
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? (value.length === 0 ? 'an empty array' : 'an array') : typeof value;
}

function checkTokenIds(ids: readonly unknown[], at: string): void {
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j];
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      const got = typeof id === 'number' ? String(id) : describe(id);
      throw new LLMError({ code: 'invalid_request', message: `${at}.${j} must be a token id (an integer >= 0), got ${got}`, param: `${at}.${j}` });
    }
  }
}

/**
 * The engine's usage when it reported usable counts (output forced to 0), else `inputTokens`: an estimate marked as
 * such, or (`exact`: token-id input, whose count is its length) the count itself.
 */
export function embedUsage(reported: Usage | undefined, inputTokens: number, exact = false): Usage {
  const n = reported?.inputTokens;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
    return exact ? { inputTokens, outputTokens: 0, totalTokens: inputTokens } : { inputTokens, outputTokens: 0, totalTokens: inputTokens, estimated: true };
  }
  const usage: Usage = { ...reported!, outputTokens: 0, totalTokens: n };
  return usage;
}
