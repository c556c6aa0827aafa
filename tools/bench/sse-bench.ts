/**
 * SSE parsing benchmark: CPU per streamed response for `sseEvents` (reader + streaming TextDecoder +
 * eventsource-parser's `createParser`) against the web-streams pipeline it replaced
 * (`pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())`).
 *
 *   pnpm --filter @llmrr/tools-bench bench:sse
 *   ... -- --iterations 20000 --json
 *
 * Each iteration consumes one in-memory response of 19 OpenAI-style chat.completion.chunk events
 * (role, 16 content deltas, finish, [DONE]), one network-sized chunk per event. CPU is process.cpuUsage()
 * (user + system) over all iterations, after a warm-up; the variants alternate in rounds so load
 * on a shared machine affects all alike.
 *
 * A second table measures the OpenAI engine's whole decoding path, body to stream parts
 * (`OpenAIStreamDecoder` included): `SsePartStream` (one iterator, queued parts handed out as resolved
 * promises) against the two async generators it replaced (`sseEvents`, then a generator yielding each
 * event's parts), both with the call's abort signal.
 */
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';
import { LLMError } from '../../packages/core/src/errors/llm-error.js';
import { OpenAIStreamDecoder } from '../../packages/core/src/engines/openai-compatible/openai-stream-decoder.js';
import type { StreamPart } from '../../packages/core/src/spec/stream-parts.js';
import { sseEvents } from '../../packages/core/src/util/http.js';
import { SsePartStream } from '../../packages/core/src/util/sse-part-stream.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
};
const iterations = option('iterations', 10_000);
const rounds = option('rounds', 5);

const encoder = new TextEncoder();
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1764115200, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const words = 'The quick brown fox jumps over the lazy dog while the café owner naïvely counts 42 ünïcödé tokens'.split(' ');
const frames = [
  chunk({ role: 'assistant', content: '' }),
  ...words.slice(0, 16).map((w) => chunk({ content: `${w} ` })),
  chunk({}, 'stop'),
  'data: [DONE]\n\n',
].map((f) => encoder.encode(f));

function response(): Response {
  let i = 0;
  return new Response(
    new ReadableStream<Uint8Array>({
      pull(controller) {
        const f = frames[i++];
        if (f) controller.enqueue(f);
        else controller.close();
      },
    }),
  );
}

/** The previous implementation, kept here for comparison. */
async function* pipelineEvents(res: Response): AsyncGenerator<EventSourceMessage> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

type Variant = (res: Response) => AsyncGenerator<EventSourceMessage>;
const variants: Record<string, Variant> = {
  pipeline: pipelineEvents,
  sseEvents: (res) => sseEvents(res),
  // As the engines call it: with the call's signal (one abort listener per stream).
  'sseEvents+signal': (res) => sseEvents(res, new AbortController().signal),
};

async function consume(v: Variant): Promise<number> {
  let n = 0;
  for await (const e of v(response())) n += e.data.length > 0 ? 1 : 0;
  return n;
}

async function run(v: Variant, n: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    if ((await consume(v)) !== frames.length) throw new Error(`expected ${frames.length} events`);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** The engine's stream before `SsePartStream`: a generator over `sseEvents`, as `OpenAICompatibleEngine.stream` was. */
async function* generatorParts(res: Response, signal: AbortSignal): AsyncGenerator<StreamPart> {
  const decoder = newDecoder();
  for await (const event of sseEvents(res, signal)) {
    for (const part of decoder.decode(event.data)) yield part;
    if (decoder.done) return;
  }
  for (const part of decoder.end()) yield part;
}

const newDecoder = () => new OpenAIStreamDecoder({ provider: 'bench', estimateInputTokens: () => 10 });
type PartVariant = (res: Response, signal: AbortSignal) => AsyncIterable<StreamPart>;
const partVariants: Record<string, PartVariant> = {
  generators: generatorParts,
  SsePartStream: (res, signal) =>
    new SsePartStream({ signal, open: async () => ({ response: res, decoder: newDecoder() }), abortPart: () => ({ type: 'error', error: new LLMError({ code: 'aborted', message: 'aborted' }) }) }),
};
// metadata, 16 text deltas, finish
const PARTS = 18;

async function runParts(v: PartVariant, n: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    let parts = 0;
    for await (const part of v(response(), new AbortController().signal)) if (part.type !== 'error') parts++;
    if (parts !== PARTS) throw new Error(`expected ${PARTS} parts, got ${parts}`);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

for (const v of Object.values(variants)) await run(v, 1000);
for (const v of Object.values(partVariants)) await runParts(v, 1000);
const totals: Record<string, number> = Object.fromEntries(Object.keys(variants).map((name) => [name, 0]));
const perRound = Math.max(1, Math.floor(iterations / rounds));
const partTotals: Record<string, number> = Object.fromEntries(Object.keys(partVariants).map((name) => [name, 0]));
for (let r = 0; r < rounds; r++) {
  for (const [name, v] of Object.entries(variants)) totals[name]! += await run(v, perRound);
  for (const [name, v] of Object.entries(partVariants)) partTotals[name]! += await runParts(v, perRound);
}
const n = perRound * rounds;
const perStream = (t: Record<string, number>) => Object.fromEntries(Object.entries(t).map(([name, ms]) => [name, { cpuMsPerStream: +(ms / n).toFixed(4) }]));
const result = perStream(totals);
const partResult = perStream(partTotals);
if (args.includes('--json')) console.log(JSON.stringify({ events: frames.length, streams: n, ...result, parts: partResult }));
else {
  console.log(`${frames.length} events per stream, ${n} streams per variant, CPU ms per stream (user + system):`);
  for (const [name, r] of Object.entries(result)) console.log(`  ${name.padEnd(17)} ${r.cpuMsPerStream.toFixed(4)}`);
  console.log(`  pipeline / sseEvents ${(totals.pipeline! / totals.sseEvents!).toFixed(1)}x`);
  console.log(`body to stream parts (OpenAIStreamDecoder included), CPU ms per stream:`);
  for (const [name, r] of Object.entries(partResult)) console.log(`  ${name.padEnd(17)} ${r.cpuMsPerStream.toFixed(4)}`);
  console.log(`  generators / SsePartStream ${(partTotals.generators! / partTotals.SsePartStream!).toFixed(2)}x`);
}
