import { LLMError } from '../errors/llm-error.js';
import type { DeploymentStatsSnapshot } from './types.js';

export interface DeploymentStatsOptions {
  /** EWMA smoothing factor in (0,1]: weight of the newest sample. Default 0.2. */
  alpha?: number;
  /** Half-life (ms, >= 0) with which the error rate decays toward 0 while no outcome arrives; 0: it does not decay. Default 60 000. */
  errorRateHalfLifeMs?: number;
  now: () => number;
  /** Reads the circuit state (owned by the breaker). */
  circuit: () => DeploymentStatsSnapshot['circuit'];
}

/**
 * Refuses statistics settings the EWMA cannot use, as `config_invalid` naming the setting (`names`: what the caller
 * calls them, `RouterOptions.statsAlpha`...): an `alpha` outside (0, 1], an `errorRateHalfLifeMs` that is not a number
 * >= 0 (NaN, from an environment variable that did not parse, would make every error rate NaN for good).
 */
export function checkStatsOptions(
  options: { readonly alpha?: unknown; readonly errorRateHalfLifeMs?: unknown },
  names: { readonly alpha: string; readonly errorRateHalfLifeMs: string } = { alpha: 'alpha', errorRateHalfLifeMs: 'errorRateHalfLifeMs' },
): void {
  const { alpha, errorRateHalfLifeMs: halfLife } = options;
  if (alpha !== undefined && !(typeof alpha === 'number' && alpha > 0 && alpha <= 1)) {
    throw new LLMError({ code: 'config_invalid', message: `${names.alpha} must be a number in (0, 1], got ${String(alpha)}`, param: names.alpha });
  }
  if (halfLife !== undefined && !(typeof halfLife === 'number' && halfLife >= 0)) {
    throw new LLMError({ code: 'config_invalid', message: `${names.errorRateHalfLifeMs} must be a number of ms >= 0 (0: the error rate does not decay), got ${String(halfLife)}`, param: names.errorRateHalfLifeMs });
  }
}

/**
 * Live statistics of one deployment, fed by every attempt. It is itself a `DeploymentStatsSnapshot`
 * (getters over live fields), so strategies read it without an allocation per call; `snapshot()`
 * copies it for callers who keep it.
 */
export class DeploymentStats implements DeploymentStatsSnapshot {
  requests = 0;
  failures = 0;
  successes = 0;
  inFlight = 0;
  lastErrorCode: string | undefined = undefined;
  /** Called when the last attempt in flight ends (set for a retired deployment: its engine is closed then). */
  onIdle: (() => void) | undefined = undefined;
  private latency: number | undefined = undefined;
  private ttft: number | undefined = undefined;
  private errorEwma = 0;
  private errorAt = 0;
  private readonly alpha: number;
  private readonly halfLife: number;

  constructor(private readonly options: DeploymentStatsOptions) {
    checkStatsOptions(options);
    this.alpha = options.alpha ?? 0.2;
    this.halfLife = options.errorRateHalfLifeMs ?? 60_000;
  }

  get latencyMs(): number | undefined {
    return this.latency;
  }

  get ttftMs(): number | undefined {
    return this.ttft;
  }

  /** EWMA of failures (0..1), decayed toward 0 by the time since the last outcome. */
  get errorRate(): number {
    if (this.errorEwma === 0) return 0;
    if (this.halfLife <= 0) return this.errorEwma;
    const idle = this.options.now() - this.errorAt;
    return idle <= 0 ? this.errorEwma : this.errorEwma * Math.pow(0.5, idle / this.halfLife);
  }

  get circuit(): DeploymentStatsSnapshot['circuit'] {
    return this.options.circuit();
  }

  /** An attempt starts. */
  start(): void {
    this.requests++;
    this.inFlight++;
  }

  /** An attempt succeeded after `latencyMs`, with a first token after `ttftMs` (streams). */
  success(latencyMs: number, ttftMs?: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (this.inFlight === 0 && this.onIdle !== undefined) this.onIdle();
    this.successes++;
    this.latency = this.ewma(this.latency, latencyMs);
    if (ttftMs !== undefined) this.ttft = this.ewma(this.ttft, ttftMs);
    this.outcome(0);
  }

  /** A streamed attempt produced its first token (fed before the stream ends). */
  firstToken(ttftMs: number): void {
    this.ttft = this.ewma(this.ttft, ttftMs);
  }

  /**
   * An attempt failed. `countsAsError` is false for failures that say nothing about the deployment's
   * health (the caller aborted, the request itself was invalid): those only release the in-flight slot.
   */
  failure(code: string, countsAsError = true): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (this.inFlight === 0 && this.onIdle !== undefined) this.onIdle();
    if (!countsAsError) return;
    this.failures++;
    this.lastErrorCode = code;
    this.outcome(1);
  }

  private outcome(sample: 0 | 1): void {
    this.errorEwma = this.errorRate + this.alpha * (sample - this.errorRate);
    this.errorAt = this.options.now();
  }

  private ewma(previous: number | undefined, sample: number): number {
    return previous === undefined ? sample : previous + this.alpha * (sample - previous);
  }

  snapshot(): DeploymentStatsSnapshot {
    const s: DeploymentStatsSnapshot = {
      requests: this.requests,
      failures: this.failures,
      latencyMs: this.latency,
      ttftMs: this.ttft,
      errorRate: this.errorRate,
      inFlight: this.inFlight,
      circuit: this.circuit,
    };
    if (this.lastErrorCode !== undefined) s.lastErrorCode = this.lastErrorCode;
    return s;
  }
}
