import { ERROR_CODES, type LLMErrorCode } from './codes.js';

const MARKER = Symbol.for('@llmrr/core.LLMError');

export interface LLMErrorOptions {
  code: LLMErrorCode;
  message: string;
  /** HTTP status; defaults to the code's status. For provider errors, the upstream status goes in `upstreamStatus`. */
  statusCode?: number;
  isRetryable?: boolean;
  retryAfterMs?: number;
  /** The offending field, as a dotted path (`messages.0.content`). */
  param?: string;
  provider?: string;
  /** Deployment (config model name) that failed, when known. */
  deployment?: string;
  upstreamStatus?: number;
  /** The provider's own error body or code, for debugging; never shown to end users by the gateway. */
  details?: unknown;
  /**
   * The failure came after the provider accepted the request (a 2xx whose body was cut, unreadable or not JSON): the
   * answer may already be generated and billed, so the router neither retries it nor hands it to a fallback.
   */
  afterResponse?: boolean;
  /**
   * The failure is the model's answer to this request (its provider answered it: a Gemini failed tool call), not the
   * deployment failing: the router retries and falls over as the code says, but does not count it against the
   * deployment's health (its circuit, its error rate), which one tenant's tools or prompt would otherwise strike for all.
   */
  modelFault?: boolean;
  cause?: unknown;
}

/**
 * The one error class of the project. Check with `LLMError.isInstance(e)`, which works across
 * duplicate installs; switch on `code`, never on `message`.
 */
export class LLMError extends Error {
  readonly [MARKER] = true;
  override readonly name = 'LLMError';
  readonly code: LLMErrorCode;
  readonly statusCode: number;
  readonly type: string;
  readonly isRetryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly param: string | undefined;
  readonly provider: string | undefined;
  readonly deployment: string | undefined;
  readonly upstreamStatus: number | undefined;
  readonly details: unknown;
  readonly afterResponse: boolean;
  readonly modelFault: boolean;

  constructor(options: LLMErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    const entry = ERROR_CODES[options.code];
    this.code = options.code;
    this.statusCode = options.statusCode ?? entry.status;
    this.type = entry.type;
    this.isRetryable = options.isRetryable ?? entry.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.param = options.param;
    this.provider = options.provider;
    this.deployment = options.deployment;
    this.upstreamStatus = options.upstreamStatus;
    this.details = options.details;
    this.afterResponse = options.afterResponse ?? false;
    this.modelFault = options.modelFault ?? false;
  }

  static isInstance(value: unknown): value is LLMError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  /** A copy with some fields replaced (errors are immutable). */
  with(patch: Partial<LLMErrorOptions>): LLMError {
    return new LLMError({
      code: this.code,
      message: this.message,
      statusCode: this.statusCode,
      isRetryable: this.isRetryable,
      retryAfterMs: this.retryAfterMs,
      param: this.param,
      provider: this.provider,
      deployment: this.deployment,
      upstreamStatus: this.upstreamStatus,
      details: this.details,
      afterResponse: this.afterResponse,
      modelFault: this.modelFault,
      cause: this.cause,
      ...patch,
    });
  }

  /** The wire shape: `{ error: { type, code, message, param, request_id } }`, with the request's id when given. */
  toWire(requestId?: string): { error: { type: string; code: string; message: string; param: string | null; request_id: string | null } } {
    return {
      error: {
        type: this.type,
        code: this.code,
        message: this.message,
        param: this.param ?? null,
        request_id: requestId ?? null,
      },
    };
  }

  /**
   * The wire shape without a request id (`toWire()`), for `JSON.stringify`: it takes no argument (the property key
   * `JSON.stringify` passes is not a request id). Use `toWire(requestId)` for an answer's body.
   */
  toJSON(): { error: { type: string; code: string; message: string; param: string | null; request_id: string | null } } {
    return this.toWire();
  }
}
