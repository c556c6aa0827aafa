import type { LLMError, RouterStream } from '@llmrr/core';
import type { FrameStream } from '../http/reply.js';
import type { GatewayEnv } from '../types.js';

/**
 * Where `serveGateway` puts its `ServedStreams` in the env of a request it passes to `gateway.fetch` (a registered
 * symbol, so it works across duplicate installs; not part of the public `GatewayEnv`).
 */
export const SERVED_STREAMS: unique symbol = Symbol.for('@llmrr/gateway.servedStreams') as never;

/** Where `serveGateway` puts the signal of the connection carrying a request it passes to `gateway.fetch` (as `SERVED_STREAMS`). */
export const SERVED_SIGNAL: unique symbol = Symbol.for('@llmrr/gateway.servedSignal') as never;

/**
 * Where `serveGateway` puts what it does with the response of a request it passes to `gateway.fetch` once its streamed
 * body gave up on a client that stopped reading (`FrameSink.abandon`; as `SERVED_STREAMS`).
 */
export const SERVED_ABANDON: unique symbol = Symbol.for('@llmrr/gateway.servedAbandon') as never;

/**
 * Where `serveGateway` puts, for a request it passes to `gateway.fetch`, the error its server already answered the
 * request with while its body was arriving (a 400 for a body the parser failed on, a 408 past `requestTimeoutMs`), if
 * any (as `SERVED_STREAMS`).
 */
export const SERVED_ANSWERED: unique symbol = Symbol.for('@llmrr/gateway.servedAnswered') as never;

/** The env of a request `serveGateway` passes to `gateway.fetch`. */
export interface ServedEnv extends GatewayEnv {
  [SERVED_STREAMS]?: ServedStreams;
  /**
   * The signal of the connection carrying the request (made on first call): aborted when the client leaves, or by
   * its server's shutdown cut with the cut's error (`cutOf`). The model routes take it instead of the `Request`'s
   * own, so a call served through `gateway.fetch` is cut as one served directly is.
   */
  [SERVED_SIGNAL]?: () => AbortSignal;
  /** Drops the response unless the client takes it in time (`FrameSink.abandon`). */
  [SERVED_ABANDON]?: () => void;
  /** The error the server answered the request with before its body was read, if any: its body's read fails with it. */
  [SERVED_ANSWERED]?: () => LLMError | undefined;
}

/**
 * The streamed calls one server (`serveGateway`) carries, from their start until they settle, so that its shutdown
 * ends those and no other (another server's of the same gateway, an in-process `gateway.fetch`'s): at the end of its
 * grace (`cut`) a call whose stream is being sent ends with its protocol's error event, and one still waiting for its
 * upstream's first token answers the error itself. Both are settled as that error (a call whose client had left, as
 * the client's abort). A call still waiting for admission (a stalled shared store) is not stopped by this cut (its
 * server's abort of its connection's signal may stop it: `cutOf`): it answers the error once admission returns, if that
 * is within the cut's bound, else its connection is closed.
 * Per streamed call one small object and a slot; nothing per chunk.
 *
 * The calls are kept in slots (as core's `SlotSet` keeps a router's calls in flight), not in a `Set`: a `Set` that
 * calls go in and out of keeps rehashing into a new table, and V8 keeps each replaced table's entries and a link to its
 * successor, so once one table reached the old generation every settled call (its body, router stream, request) stayed
 * reachable past young-generation GCs until the next full GC. A freed slot is cleared and reused; the array only grows
 * to the most calls at once.
 */
export class ServedStreams {
  /** The calls not settled yet, each at its `ServedCall.slot`; `undefined` in a freed slot. */
  private readonly calls: Array<ServedCall | undefined> = [];
  /** Freed slots of `calls`, reused first. */
  private readonly free: number[] = [];
  /** The cut's error, once it started: a call that starts from then on is cut at once. */
  private cutWith: LLMError | undefined;

  /** A streamed call starts; `abort` is its own controller, if it has one (`SseResponseOptions.abort`). */
  start(abort: AbortController | undefined): ServedCall {
    const call = new ServedCall(this, abort);
    if (this.cutWith) call.interrupt(this.cutWith);
    else {
      const slot = this.free.length > 0 ? this.free.pop()! : this.calls.length;
      this.calls[slot] = call;
      call.slot = slot;
    }
    return call;
  }

  /** `call` settled (`ServedCall.done`): its slot is freed (nothing when it has none). */
  release(call: ServedCall): void {
    const slot = call.slot;
    if (slot === undefined || this.calls[slot] !== call) return;
    this.calls[slot] = undefined;
    call.slot = undefined;
    this.free.push(slot);
  }

  /**
   * The cut's error when `signal` was aborted by it (its server aborts the connection signal of each model request
   * still running at the cut: `serveGateway`), undefined when it was not (the client left, or no cut).
   */
  cutOf(signal: AbortSignal | undefined): LLMError | undefined {
    return this.cutWith !== undefined && signal?.aborted === true && signal.reason === this.cutWith ? this.cutWith : undefined;
  }

  /**
   * Ends every call not settled yet with `error`, and the calls that start from then on; returns how many were in
   * flight. A call whose interrupt throws (a wrapped router's `cancel`) is still counted, and the others still cut.
   */
  cut(error: LLMError): number {
    this.cutWith = error;
    let n = 0;
    // (A call that settles meanwhile frees its slot: it is not visited, as a `Set` would not visit it.)
    for (let i = 0; i < this.calls.length; i++) {
      const call = this.calls[i];
      if (call === undefined) continue;
      n++;
      try {
        call.interrupt(error);
      } catch {
        // The call was marked cut first: its failure, if its stream stops, is still `error`.
      }
    }
    return n;
  }
}

/** One streamed call of a server (`ServedStreams.start`), until it settles (`done`). */
export class ServedCall {
  /** The cut's error, once the call was cut: the call fails with it, whatever its stream then says. */
  error: LLMError | undefined;
  /** The router stream, once asked for: a cut before the stream opened cancels it, so the open fails. */
  stream: RouterStream | undefined;
  /** The answer's body, once the stream opened: a cut then ends it with its error event. */
  body: FrameStream | undefined;
  /** The call's slot in its server's `ServedStreams` until it settles (none once settled, nor for a call cut as it started). */
  slot: number | undefined;

  constructor(
    private readonly streams: ServedStreams,
    private readonly abort: AbortController | undefined,
  ) {}

  interrupt(error: LLMError): void {
    if (this.error) return;
    this.error = error;
    if (this.body) this.body.interrupt?.(error);
    else {
      this.abort?.abort(error);
      this.stream?.cancel?.(error);
    }
  }

  /**
   * Throws the cut's error once the call was cut (before it asks for or answers with its stream), unless its client
   * had already left (`signal` aborted, not by the cut itself): the call then ends as the client's abort.
   */
  check(signal: AbortSignal | undefined): void {
    if (this.error && (signal?.aborted !== true || signal.reason === this.error)) throw this.error;
  }

  /** The call settled. */
  done(): void {
    this.streams.release(this);
  }
}
