/**
 * One process of stream-part-alloc.ts (bundled, run with `--expose-gc` and a young generation large enough that a
 * measured batch of streams runs without a GC): the gateway's streamed chat completions through its direct route (as
 * the Node adapter calls it, `pipe` into a sink), over an `LLMRouter` whose `openai-compatible` deployment reads an
 * in-memory upstream pushed as a socket delivers it (a `DIRECT_BODY`). `CHUNKS` content chunks per answer; `SPREAD=ready`
 * delivers all of an answer's chunks at once (the parts of one network read), `SPREAD=wait` one chunk per stream per
 * turn of a shared pump (`setImmediate`, once for all streams: each part is waited for). `STREAMS` streams at once.
 * Prints `ALLOC <bytes per stream>` (used heap before and after a batch, no GC in between: checked) and
 * `CPU <ms per stream>` (a batch without the measurement), after a warm-up.
 */
import * as core from '@llmrr/core';
import { LLMRouter } from '@llmrr/core';
import { createGateway } from '@llmrr/gateway';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

const CHUNKS = Number(process.env.CHUNKS ?? 16);
const STREAMS = Number(process.env.STREAMS ?? 64);
const BATCHES = Number(process.env.BATCHES ?? 4);
const WAIT = process.env.SPREAD === 'wait';

const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench-model', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`;
const sse = [
  chunk({ role: 'assistant', content: '' }, null),
  ...Array.from({ length: CHUNKS }, (_, i) => chunk({ content: `${i === 0 ? '' : ' '}word${i}` }, null)),
  chunk({}, 'stop'),
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench-model', choices: [], usage: { prompt_tokens: 12, completion_tokens: CHUNKS, total_tokens: 12 + CHUNKS } })}\n\n`,
  'data: [DONE]\n\n',
].map((s) => new TextEncoder().encode(s));

type Sink = { data(c: Uint8Array): void; end(): void; error(e: unknown): void };
/** `SPREAD=wait`: the streams whose next chunk the pump delivers on its next turn. */
const pumped = new Set<{ sink: Sink; i: number }>();
let pumping = false;
function pump(): void {
  pumping = false;
  for (const s of pumped) {
    s.sink.data(sse[s.i++]!);
    if (s.i === sse.length) {
      pumped.delete(s);
      s.sink.end();
    }
  }
  if (pumped.size > 0 && !pumping) {
    pumping = true;
    setImmediate(pump);
  }
}

const DIRECT = (core as Record<string, unknown>).DIRECT_BODY as symbol;
const fetchFn = (async () => {
  const tap = (sink: Sink) => {
    const s = { sink, i: 0 };
    if (WAIT) {
      pumped.add(s);
      if (!pumping) {
        pumping = true;
        setImmediate(pump);
      }
    } else {
      queueMicrotask(() => {
        for (const c of sse) sink.data(c);
        sink.end();
      });
    }
    return { pause() {}, resume() {}, cancel: () => void pumped.delete(s), release: () => void pumped.delete(s) };
  };
  return Object.assign(new Response(null, { status: 200, headers: { 'content-type': 'text/event-stream' } }), { [DIRECT]: { tap } });
}) as unknown as typeof globalThis.fetch;
Object.assign(fetchFn, { [Symbol.for('@llmrr/core.releasesAbortListeners')]: true, [Symbol.for('@llmrr/core.takesAttemptSignals')]: true });

const router = new LLMRouter(
  { models: [{ name: 'bench', engine: 'openai-compatible', baseURL: 'http://upstream.invalid/v1', apiKey: 'bench-key', model: 'bench-model' }], routing: { strategy: 'priority' } },
  { fetch: fetchFn },
);
const gateway = createGateway({ router });
interface Reply {
  status: number;
  body: string | { pipe(sink: { write(piece: string): boolean; drained(): Promise<void> }): Promise<void> };
}
interface Direct {
  route(method: string, path: string, origin: string | undefined): (incoming: unknown, requestId: string, startedAt: number) => Promise<Reply>;
  requestId(headers: unknown): string;
  now(): number;
}
const direct = (gateway as unknown as Record<symbol, Direct>)[Symbol.for('@llmrr/gateway.directRoutes')]!;
const route = direct.route('POST', '/v1/chat/completions', undefined);
const payload = new TextEncoder().encode(
  JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say some words.' }], max_tokens: 32, stream: true, stream_options: { include_usage: true } }),
);
const headerValues: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(payload.byteLength) };
const headers = { get: (name: string) => headerValues[name.toLowerCase()] ?? null };
/** One signal per stream of a batch, as the Node adapter keeps one per connection. */
const signals = Array.from({ length: STREAMS }, () => new AbortController().signal);

let bytes = 0;
const sink = { write: (piece: string) => ((bytes += piece.length), true), drained: async () => {} };
async function once(signal: AbortSignal): Promise<void> {
  const reply = await route({ headers, bytes: async () => payload, signal, clientIp: '127.0.0.1' }, direct.requestId(headers), direct.now());
  if (reply.status !== 200 || typeof reply.body === 'string') throw new Error(`status ${reply.status}: ${String(reply.body)}`);
  await reply.body.pipe(sink);
}
/** One batch: `STREAMS` streams at once, each read to its end. Exported for `--same-process` (see stream-part-alloc.ts). */
export const batch = () => Promise.all(signals.map(once));

async function measure(): Promise<void> {
  let gcs = 0;
  const kinds: string[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) kinds.push(String((e as { detail?: { kind?: number } }).detail?.kind));
    gcs += list.getEntries().length;
  }).observe({ entryTypes: ['gc'] });
  const gc = (globalThis as { gc?: () => void }).gc!;

  for (let i = 0; i < 30; i++) await batch(); // warm-up (JIT)
  const bytesPerStream = bytes / (30 * STREAMS);
  const allocs: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    gc();
    await new Promise((r) => setTimeout(r, 1));
    const g0 = gcs;
    const spaces0 = getHeapSpaceStatistics();
    const used0 = getHeapStatistics().used_heap_size;
    await batch();
    const used1 = getHeapStatistics().used_heap_size;
    const spaces1 = getHeapSpaceStatistics();
    if (process.env.SPACES) console.log(`SPACES ${spaces1.map((s, i) => `${s.space_name} ${((s.space_used_size - spaces0[i]!.space_used_size) / STREAMS).toFixed(0)}`).join(', ')}`);
    // (The observer's entries come a turn later.)
    await new Promise((r) => setTimeout(r, 1));
    if (gcs !== g0) throw new Error(`a GC ran (kinds ${kinds.slice(-(gcs - g0)).join(' ')}; ${((used1 - used0) / 1e6).toFixed(1)} MB) during a measured batch: fewer STREAMS or a larger --max-semi-space-size`);
    allocs.push((used1 - used0) / STREAMS);
  }
  const cpu0 = process.cpuUsage();
  for (let b = 0; b < 20; b++) await batch();
  const cpu = process.cpuUsage(cpu0);
  allocs.sort((a, b) => a - b);
  console.log(`ALLOC ${allocs[Math.floor(allocs.length / 2)]!.toFixed(0)} ${allocs.map((a) => a.toFixed(0)).join(' ')}`);
  console.log(`CPU ${((cpu.user + cpu.system) / 1000 / (20 * STREAMS)).toFixed(4)}`);
  console.log(`BYTES ${bytesPerStream.toFixed(0)}`);
}

// Imported (`STREAM_PART_LIB`): the caller runs the batches.
if (process.env.STREAM_PART_LIB === undefined) await measure();
