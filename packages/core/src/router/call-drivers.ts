import { LLMError } from '../errors/llm-error.js';
import type { CallOptions, EmbedResult, GenerateRequest, GenerateResult, Usage } from '../spec/index.js';
import type { AttemptScope } from './resilience/attempt-scope.js';
import type { AttemptDriver } from './resilience/run-attempts.js';

/**
 * Runs `generate` on a deployment (its `maxTokens` clamp applied), raced against the attempt's abort (an engine given
 * the caller's signal itself, `shared`, settles when it aborts: no race); an engine
 * that reports its provider request tells the attempt's scope when it goes out (`AttemptScope.providerRequest`),
 * and when the provider's answer arrived (`AttemptScope.providerResponse`).
 */
export function generateDriver(request: GenerateRequest, headers: Record<string, string> | undefined): AttemptDriver<GenerateResult> {
  return {
    takesSharedSignal: true,
    run(d, scope, shared) {
      const engine = d.engine();
      const signal = scope ? scope.signal : shared;
      const options: CallOptions | undefined = signal ? (headers ? { signal, headers } : { signal }) : headers ? { headers } : undefined;
      if (scope && engine.reportsProviderRequest === true) options!.onProviderRequest = scope.providerRequest();
      const onResponse = scope?.providerResponse();
      if (onResponse) options!.onProviderResponse = onResponse;
      const answer = engine.generate(d.requestFor(request), options);
      // Race the abort too, so a timeout holds even against an engine slow to honour its signal.
      return scope ? scope.race(answer) : answer;
    },
  };
}

/** Runs `embed` on a deployment; an answer that does not have one vector per input fails the attempt. */
export function embedDriver(input: string[], headers: Record<string, string> | undefined): AttemptDriver<EmbedResult> {
  return {
    async run(d, scope: AttemptScope | undefined) {
      const engine = d.engine();
      if (typeof engine.embed !== 'function') {
        throw new LLMError({ code: 'unsupported', message: `Deployment "${d.name}" has no embed()`, deployment: d.name, provider: d.provider });
      }
      const options: CallOptions | undefined = scope ? (headers ? { signal: scope.signal, headers } : { signal: scope.signal }) : headers ? { headers } : undefined;
      const onResponse = scope?.providerResponse();
      if (onResponse) options!.onProviderResponse = onResponse;
      const pending = engine.embed(input, options);
      const answer = await (scope ? scope.race(pending) : pending);
      const vectors = (answer as Partial<EmbedResult> | undefined)?.embeddings;
      if (!Array.isArray(vectors) || vectors.length !== input.length || !vectors.every((v) => Array.isArray(v) && v.length > 0)) {
        const got = Array.isArray(vectors) ? `${vectors.length} vectors` : 'no embeddings array';
        throw new LLMError({
          code: 'invalid_response',
          message: `Deployment "${d.name}" answered embed() with ${got} for ${input.length} inputs`,
          deployment: d.name,
          provider: d.provider,
        });
      }
      return answer;
    },
  };
}

/** `embed` input: a string or a non-empty array of strings. */
export function embedInput(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) {
    throw new LLMError({ code: 'invalid_request', message: 'input must be a string or a non-empty array of strings', param: 'input' });
  }
  for (let i = 0; i < input.length; i++) {
    if (typeof input[i] !== 'string') {
      throw new LLMError({ code: 'invalid_request', message: `input.${i} must be a string, got ${input[i] === null ? 'null' : typeof input[i]}`, param: `input.${i}` });
    }
  }
  return input as string[];
}

/** The engine's usage when it reported usable counts (output forced to 0), else an estimate marked as such. */
export function embedUsage(reported: Usage | undefined, estimatedInputTokens: number): Usage {
  const n = reported?.inputTokens;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
    return { inputTokens: estimatedInputTokens, outputTokens: 0, totalTokens: estimatedInputTokens, estimated: true };
  }
  const usage: Usage = { ...reported!, outputTokens: 0, totalTokens: n };
  return usage;
}
