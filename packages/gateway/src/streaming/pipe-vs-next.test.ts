import { LLMError, type RouterResult, type RouterStreamPart, type StreamPart } from '@llmrr/core';
import { describe, expect, it } from 'vitest';
import type { OpenedStream, RoutePart } from './open-stream.js';
import { sseReply, type StreamEncoder, type StreamOutcome } from './sse-response.js';

// Review of 7be8ebb: `pipe` against `frames.next()` as the Node adapter drives each (client leaving after
// the k-th write, with or without buffered writes and a slow settle), for several router streams.

const usage = { inputTokens: 1, outputTokens: 2, totalTokens: 3 };
const route: RoutePart = { type: 'route', requestId: 'req1', deployment: 'd', model: 'm', provider: 'p', cached: false };
const result = { requestId: 'req1', text: 'abc', finishReason: 'stop', usage } as unknown as RouterResult;
const finish: StreamPart = { type: 'finish', finishReason: 'stop', usage };

function encoder(throwIn?: 'part' | 'finish' | 'error'): StreamEncoder {
  return {
    start: () => ['<start>'],
    part: (p) => {
      if (throwIn === 'part' && p.type === 'text-delta' && p.delta === 'c') throw new Error('enc part');
      return p.type === 'text-delta' && p.delta !== '' ? [`<${p.delta}>`] : [];
    },
    finish: (p) => {
      if (throwIn === 'finish') throw new LLMError({ code: 'internal', message: 'enc finish' });
      return [`<finish ${p.finishReason}>`, '<done>'];
    },
    error: (e) => {
      if (throwIn === 'error') throw new Error('enc error');
      return [`<error ${e.code}>`];
    },
  };
}

function opened(parts: RouterStreamPart[], res: Promise<RouterResult> = Promise.resolve(result), onPull?: (i: number) => void) {
  const state = { returned: 0, pulled: 0, cancelled: 0 };
  let wake: (() => void) | undefined;
  let cancelled = false;
  const iterator: AsyncIterator<RouterStreamPart> = {
    async next() {
      if (cancelled) return { done: true, value: undefined };
      const i = state.pulled++;
      onPull?.(i);
      await new Promise((r) => setTimeout(r, 1));
      if (i < parts.length) return { done: false, value: parts[i]! };
      return { done: true, value: undefined };
    },
    async return() {
      state.returned++;
      wake?.();
      return { done: true, value: undefined };
    },
  };
  res.catch(() => {});
  const stream: OpenedStream = {
    route,
    head: [{ type: 'text-delta', delta: 'a' }],
    iterator,
    stream: { requestId: 'req1', result: res, [Symbol.asyncIterator]: () => iterator, cancel: () => ((cancelled = true), state.cancelled++, wake?.()) },
    firstPartMs: 5,
    startedAt: 0,
    now: () => 9,
  };
  return { stream, state };
}

type Script = { name: string; parts: RouterStreamPart[]; enc?: 'part' | 'finish' | 'error'; result?: () => Promise<RouterResult>; settleFails?: boolean };
const scripts: Script[] = [
  { name: 'success', parts: [{ type: 'text-delta', delta: 'b' }, { type: 'text-delta', delta: 'c' }, finish] },
  { name: 'provider error', parts: [{ type: 'text-delta', delta: 'b' }, { type: 'error', error: new LLMError({ code: 'provider_error', message: 'x' }) }] },
  { name: 'encoder part throws', parts: [{ type: 'text-delta', delta: 'b' }, { type: 'text-delta', delta: 'c' }, finish], enc: 'part' },
  { name: 'encoder finish throws', parts: [{ type: 'text-delta', delta: 'b' }, finish], enc: 'finish' },
  { name: 'encoder error throws', parts: [{ type: 'text-delta', delta: 'b' }, { type: 'error', error: new LLMError({ code: 'provider_error', message: 'x' }) }], enc: 'error' },
  { name: 'result rejects', parts: [{ type: 'text-delta', delta: 'b' }, finish], result: () => Promise.reject(new LLMError({ code: 'internal', message: 'lost' })) },
  { name: 'settle fails', parts: [{ type: 'text-delta', delta: 'b' }, finish], settleFails: true },
];

async function drive(s: Script, how: 'next' | 'pipe', leaveAfter: number, buffered: boolean, leaveIn: 'write' | 'settle' | 'pull' = 'write') {
  const o = opened(s.parts, s.result?.() ?? Promise.resolve(result), (i) => {
    if (leaveIn === 'pull' && i === leaveAfter) setTimeout(leave, 0);
  });
  const outcomes: StreamOutcome[] = [];
  const r = sseReply(o.stream, encoder(s.enc), {
    requestId: 'req1',
    headers: {},
    signal: undefined,
    settle: async (x) => {
      outcomes.push(x);
      if (leaveIn === 'settle') setTimeout(leave, 0);
      await new Promise((res) => setTimeout(res, 5));
      if (s.settleFails && x.status === 'success') throw new LLMError({ code: 'internal', message: 'ledger down' });
    },
  });
  if (typeof r.body === 'string') throw new Error('not a stream');
  const body = r.body;
  const out: string[] = [];
  let gone = false;
  let cancelling: Promise<void> | undefined;
  const leave = () => {
    if (gone) return;
    gone = true;
    cancelling = body.cancel().catch(() => {});
  };
  // As node's res.write: false when buffered; `drained` resolves later (or when the client leaves).
  const write = (piece: string): boolean => {
    out.push(piece);
    return !buffered;
  };
  const drained = () =>
    new Promise<void>((resolve) =>
      setTimeout(() => {
        if (leaveIn === 'write' && out.length === leaveAfter) leave();
        resolve();
      }, 2),
    );
  let threw: string | undefined;
  try {
    if (how === 'pipe') {
      await body.pipe!({
        write: (piece) => {
          if (gone) return true;
          const ok = write(piece);
          if (leaveIn === 'write' && !buffered && out.length === leaveAfter) leave();
          return ok;
        },
        drained,
      });
    } else {
      for (;;) {
        const next = await body.frames.next();
        if (next.done || gone) break;
        if (!write(next.value)) await drained();
        else if (leaveIn === 'write' && out.length === leaveAfter) leave();
      }
    }
  } catch (e) {
    threw = (e as Error).message;
  }
  await cancelling;
  await new Promise((res) => setTimeout(res, 20));
  return {
    out,
    threw,
    outcomes: outcomes.map((x) => ({ status: x.status, code: 'error' in x ? x.error?.code : undefined, text: 'outputText' in x ? x.outputText : undefined })),
    returned: o.state.returned,
    cancelled: o.state.cancelled > 0,
  };
}

describe('pipe and next() agree, the client leaving after every write', () => {
  const cases = scripts.flatMap((s) => [false, true].flatMap((buffered) => [0, 1, 2, 3, 4].map((leaveAfter) => ({ s, buffered, leaveAfter, name: `${s.name}/${buffered ? 'B' : 'u'}/w${leaveAfter}` }))));
  it.each(cases)('$name', async ({ s, buffered, leaveAfter }) => {
    const viaNext = await drive(s, 'next', leaveAfter, buffered);
    const viaPipe = await drive(s, 'pipe', leaveAfter, buffered);
    expect(viaPipe).toEqual(viaNext);
    expect(viaPipe.outcomes).toHaveLength(1);
  });
  // (Leaving while the pull of the finish part is in flight is the separate test below.)
  const finishPull = (s: Script) => s.parts.findIndex((p) => p.type === 'finish');
  const others = scripts.flatMap((s) =>
    [false, true].flatMap((buffered) =>
      (['settle', 'pull'] as const).flatMap((leaveIn) =>
        [0, 1, 2].filter((k) => !(leaveIn === 'pull' && k === finishPull(s))).map((leaveAfter) => ({ s, buffered, leaveIn, leaveAfter, name: `${s.name}/${buffered ? 'B' : 'u'}/${leaveIn}${leaveAfter}` })),
      ),
    ),
  );
  it.each(others)('$name', async ({ s, buffered, leaveIn, leaveAfter }) => {
    const viaNext = await drive(s, 'next', leaveAfter, buffered, leaveIn);
    const viaPipe = await drive(s, 'pipe', leaveAfter, buffered, leaveIn);
    expect(viaPipe).toEqual(viaNext);
    expect(viaPipe.outcomes).toHaveLength(1);
  });
});

describe('a client that leaves while the pull of the finish part is in flight', () => {
  // The router stream hands over the finish part (the answer is complete, its result resolves), then its end.
  // Before 7be8ebb the Node adapter (frames.next()) settled this as a success with the router's result; the
  // pipe path settles it as the client's abort ("The client closed the stream"), without the result.
  it.each([false, true])('is settled as frames.next() settles it (buffered writes %s)', async (buffered) => {
    const s = scripts[0]!;
    const viaNext = await drive(s, 'next', 2, buffered, 'pull');
    const viaPipe = await drive(s, 'pipe', 2, buffered, 'pull');
    expect(viaNext.outcomes).toEqual([{ status: 'success', code: undefined, text: undefined }]);
    expect(viaPipe.outcomes).toEqual(viaNext.outcomes);
  });
});
