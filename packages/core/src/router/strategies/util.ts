import { LLMError } from '../../errors/llm-error.js';
import { tierPrice } from '../../pricing/compute-cost.js';
import type { Deployment, RankedCandidate, StrategyContext } from '../types.js';

/**
 * Refuses an option name `strategy` does not read (`invalid_request` whose `param` is the name; the router makes it
 * `config_invalid` naming `routing.options.<strategy>.<name>`), so a misspelt option is never silently ignored.
 */
export function checkOptionNames(strategy: string, o: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const list = known.length > 0 ? `its options: ${known.join(', ')}` : 'it takes no options';
    throw new LLMError({ code: 'invalid_request', message: `${strategy}: unknown option "${k}" (${list})`, param: k });
  }
}

/** A strategy's `checkOptions` when it reads no options. */
export function noOptions(strategy: string): (o: Record<string, unknown>) => void {
  return (o) => checkOptionNames(strategy, o, []);
}

/**
 * Expected cost of the request on `d` in USD, or undefined when its price is unknown: at the long-context tier's
 * rates when the prompt estimate is above its threshold (`tierPrice`, as the call is billed), output at the dearer
 * of `output` and `reasoningOutput` (as the gateway's budget reservation takes it).
 */
export function expectedCostUsd(d: Deployment, ctx: StrategyContext): number | undefined {
  const r = expectedRates(d, ctx);
  return r && (ctx.estimatedInputTokens * r.input + ctx.expectedOutputTokens * r.output) / 1e6;
}

/**
 * The per-million-token rates `expectedCostUsd` prices the request at on `d` (long-context tier for the prompt
 * estimate; output = dearer of `output` and `reasoningOutput`), or undefined when its price is unknown.
 */
export function expectedRates(d: Deployment, ctx: StrategyContext): { input: number; output: number } | undefined {
  if (!d.price) return undefined;
  const p = tierPrice(d.price, ctx.estimatedInputTokens);
  return { input: p.input, output: p.reasoningOutput !== undefined && p.reasoningOutput > p.output ? p.reasoningOutput : p.output };
}

/** Ascending `priority` (lower first); ties keep config order (Array.prototype.sort is stable). */
export function byPriority(a: RankedCandidate, b: RankedCandidate): number {
  return a.deployment.config.priority - b.deployment.config.priority;
}

/** Higher score first, then priority. Undefined scores go last. */
export function byScoreThenPriority(a: RankedCandidate, b: RankedCandidate): number {
  const sa = a.score;
  const sb = b.score;
  if (sa !== sb) {
    if (sa === undefined) return 1;
    if (sb === undefined) return -1;
    return sb - sa;
  }
  return byPriority(a, b);
}

/** A numeric strategy option, or `fallback` when absent or not a finite number. */
export function numberOption(options: Record<string, unknown>, key: string, fallback: number): number {
  const v = options[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** Latency the speed-minded strategies look at: ttft for streams, total latency otherwise (each falling back on the other). */
export function observedLatency(ctx: StrategyContext, name: string): number | undefined {
  const s = ctx.stats(name);
  return ctx.stream ? (s.ttftMs ?? s.latencyMs) : (s.latencyMs ?? s.ttftMs);
}
