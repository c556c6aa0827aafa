import type { DeploymentInfo, FinishReason, LLMError, RouterResult, StreamPart, Usage } from '@llmrr/core';
import type { Reply } from '../http/reply.js';
import type { OpenedStream, RoutePart } from './open-stream.js';
import { SseFrames } from './sse-frames.js';

export type FinishPart = Extract<StreamPart, { type: 'finish' }>;

/** Turns router stream parts into the frames of one wire protocol (OpenAI chunks, Anthropic events). */
export interface StreamEncoder {
  start(route: RoutePart): string[];
  /** Content, metadata and usage parts (never `finish` or `error`). */
  part(part: StreamPart): string[];
  /**
   * The content parts this wire carries, when it leaves some out (the legacy completion has no field for
   * reasoning or tool calls; the OpenAI wires none for empty deltas or a redacted reasoning block): the time to
   * first token is taken at the first of them. Default: every content part (`isContentPart`).
   */
  carriesContent?(part: StreamPart): boolean;
  /** Final frames of a stream that ended well; `result` is the router's final result. */
  finish(part: FinishPart, result: RouterResult): string[];
  /**
   * Final frames of a stream that broke after its first byte: an explicit error event. Also the only frames of a
   * stream committed before it opened (`streamHoldMs`) that then failed: `start` was not called.
   */
  error(error: LLMError, requestId: string): string[];
  /**
   * The keep-alive frame of a stream committed before its first content (`streamHoldMs`), sent before `start`.
   * Default an SSE comment line (`: keep-alive`), which every SSE client ignores.
   */
  keepAlive?(): string;
}

/**
 * `carriesContent` of the chat completions and Responses wires: text, refusal or reasoning with text (an empty
 * delta, or a redacted reasoning block, sends nothing) and tool calls.
 */
export function carriesTextOrCall(part: StreamPart): boolean {
  if (part.type === 'text-delta' || part.type === 'reasoning-delta') return part.delta !== '';
  return part.type === 'tool-call-delta' || part.type === 'tool-call';
}

/**
 * How a stream ended, for the ledger, budget and metrics (called before the final frames are sent). `ttftMs`: ms
 * from the call to the first content part the client's wire carries (`StreamEncoder.carriesContent`), or to the
 * finish of an answer without one; a stream that broke off before either has none.
 */
export type StreamOutcome =
  | { status: 'success'; result: RouterResult; ttftMs: number }
  | {
      status: 'error' | 'aborted';
      error: LLMError;
      usage: Usage | undefined;
      finishReason?: FinishReason;
      ttftMs: number | undefined;
      /** Text, reasoning and tool-call text passed to the encoder before the end (for a usage estimate). */
      outputText: string;
      /**
       * The router's complete result, when the stream failed after it (the encoder could not send the finish):
       * its usage and cost are what the call spent (a cascade's include the weak step), nothing to estimate or add.
       */
      result?: RouterResult;
    };

export interface SseResponseOptions {
  requestId: string;
  /** The response headers so far; owned by this reply from here on (the stream headers are added to it). */
  headers: Record<string, string>;
  /**
   * The signal the router stream was given: the client's request signal (aborted when the client goes away),
   * or `abort`'s. The reply's `cancel` (the response body cancelled) cancels the router stream itself
   * (`RouterStream.cancel`) and aborts `abort`.
   */
  signal: AbortSignal | undefined;
  /**
   * The call's own controller, when the router's streams may lack `cancel` (`GatewayRouter.cancellableStreams`
   * not set): its signal is the router stream's, aborted when the response body is cancelled.
   */
  abort?: AbortController | undefined;
  /**
   * How long the client may take nothing (a write not drained: the client took nothing of what was buffered; through
   * `next()`, no frame asked for) before the stream is given up on as the router gives up on a consumer: the call settled
   * as a `timeout`, the router stream cancelled (`SseFrames`). Only for a stream the router does not watch itself (a
   * cache hit's replay, a cascade's), with the limit the router would use (`unwatchedIdleBound`); undefined: none (an
   * ordinary model stream: the router's own give-up settles it).
   */
  idleMs?: number | undefined;
  /**
   * Awaited before the last frames go out. If it throws on success (the ledger could not be written),
   * the stream ends with the error event instead of the finish frames.
   */
  settle: (outcome: StreamOutcome) => Promise<void>;
}

/**
 * The HTTP reply of a stream: frames as they come (the frames of one part in one piece, so one write);
 * when the stream ends, the outcome is settled (ledger, budget, metrics) and only then are the final
 * frames (finish + usage, or the error event) sent. A stream that breaks after its first byte always
 * ends with the protocol's error event, never silently.
 */
export function sseReply(opened: OpenedStream, enc: StreamEncoder, options: SseResponseOptions): Reply {
  const frames = new SseFrames(opened, enc, options);
  return {
    status: 200,
    headers: sseHeaders(options.headers, options.requestId),
    body: {
      frames,
      pipe: (sink) => frames.pipe(sink),
      async cancel() {
        frames.cancel();
        await frames.return();
      },
      interrupt: (error) => frames.interrupt(error),
      onAbandon: (abandon) => frames.onAbandon(abandon),
    },
  };
}

/**
 * `headers` with the stream headers added (the call's own headers object, fresh per request: added to in place, not
 * copied; a spread that adds keys costs microseconds per request on V8). No `connection` header: node:http writes
 * `keep-alive` or `close` itself (`close` for an answer that is the last of its connection, as one whose headers go out
 * while the server closes; an explicit header would win over that), and a web `Response` carries no hop-by-hop header.
 */
export function sseHeaders(headers: Record<string, string>, requestId: string): Record<string, string> {
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache';
  headers['x-accel-buffering'] = 'no';
  headers['x-request-id'] = requestId;
  headers['request-id'] = requestId;
  return headers;
}

/** The router's default `consumerIdleMs` (core's `DEFAULT_CONSUMER_IDLE_MS`). */
const DEFAULT_CONSUMER_IDLE_MS = 60_000;

/** Timeouts as the router resolves a stream's idle-consumer limit from them (core's `StreamTimeouts`). */
export interface IdleTimeouts {
  readonly consumerIdleMs?: number | undefined;
  readonly totalMs?: number | undefined;
}

/**
 * The idle-consumer limit the router resolves from `t` (core's `consumerIdleLimit`): `consumerIdleMs` (0: none); unset,
 * none when `totalMs` bounds the call, else the router's default, 60 s.
 */
export function consumerIdleLimit(t: IdleTimeouts | undefined): number | undefined {
  const idle = t?.consumerIdleMs;
  if (idle !== undefined) return idle > 0 ? idle : undefined;
  const total = t?.totalMs;
  return total !== undefined && total > 0 ? undefined : DEFAULT_CONSUMER_IDLE_MS;
}

/**
 * The gateway's own bound on a client that takes nothing (`SseResponseOptions.idleMs`), for the streams the router does
 * not watch itself; undefined for the others (an ordinary model stream: the router gives up on its consumer at the
 * answering deployment's resolved limit, `SseFrames.routerFailed`). Read once, when the stream opened:
 * - a cache hit's replay (`route.cached`: the router's, or a cascade step's): the limit of the routing timeouts;
 * - a cascade (`cascade`: the deployments the call may use, given only when it named one) whose weak answer is replayed
 *   (accepted, or kept after the strong step failed: `spent().replay`): the same;
 * - an escalated cascade (its parts are the strong step's stream, whose router watch fails the strong stream, not the
 *   cascade's, which the gateway does not pull): the strong step's resolved limit, as the router resolves it (the
 *   answering deployment's `timeouts`, then the routing ones; the gateway sets no per-call timeouts).
 */
export function unwatchedIdleBound(opened: OpenedStream, routing: IdleTimeouts | undefined, cascade: readonly DeploymentInfo[] | undefined): number | undefined {
  const route = opened.route;
  if (route.cached !== false) return consumerIdleLimit(routing);
  if (cascade === undefined) return undefined;
  const spent = opened.stream.spent?.();
  if (spent === undefined || spent.replay) return consumerIdleLimit(routing);
  let own: IdleTimeouts | undefined;
  for (const d of cascade) {
    if (d.name === route.deployment) {
      own = d.config.timeouts;
      break;
    }
  }
  if (own === undefined) return consumerIdleLimit(routing);
  return consumerIdleLimit({ consumerIdleMs: own.consumerIdleMs ?? routing?.consumerIdleMs, totalMs: own.totalMs ?? routing?.totalMs });
}
