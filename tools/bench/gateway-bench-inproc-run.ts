/**
 * The gateway's own request path in one process, without sockets (run by gateway-bench-inproc.ts, bundled):
 * `createGateway` over an `LLMRouter` whose `openai-compatible` deployment gets canned answers from an
 * in-memory `fetch` (a JSON chat completion, or the benchmark upstream's SSE stream of 16 content chunks (`CHUNKS`),
 * finish, usage and [DONE]), called through the gateway's direct routes (as the Node adapter calls them)
 * at concurrency 64 (`CONCURRENCY`): `POST /v1/chat/completions`, or with `ENDPOINT=responses` `POST /v1/responses`
 * with the body the Vercel AI SDK sends (one user message with an `input_text` part; `ITEMS=N`: a conversation of
 * N input items, as an agent loop sends, see `conversation`). `TOOLS=N` adds N function tools (`toolDefinitions`);
 * `BODY=agent` (responses) sends a coding agent's body (`agentBody`). Prints `RESULT <json|stream> <CPU-ms per call>` for each of `ROUNDS` rounds.
 * `STATE=memory` adds the in-memory stores (auth, limits, budget, ledger on SQLite in memory).
 * `UPSTREAM=push` pushes the streamed chunks as a socket does (see `pushedResponse`) instead of handing each
 * out when the reader pulls. `CHUNK_DELAY_MS` spaces the streamed chunks as the benchmark upstream does (5 ms there), so that, with
 * `CONCURRENCY=512`, every stream's objects live as long as in the 512-stream burst (what the garbage
 * collector pays for them shows), still without sockets. `HEAP_PROFILE=1` samples where one more round
 * allocates (V8's sampling heap profiler, counting objects the GC has freed too) and prints the top sites,
 * and (with `--expose-gc`) the heap held per call in flight, `CONCURRENCY` calls at once; `HELD_AT_MS` sets when that is
 * measured (default 8 chunk delays after the calls start), `HEAP_SNAPSHOT=DIR` also writes heap snapshots at rest and
 * then (DIR/rest.heapsnapshot, DIR/busy.heapsnapshot) to diff what a call holds. `BURSTS=N` (after the warm-up) instead runs N
 * bursts of `CONCURRENCY` calls started at once (one per worker) and prints for each, as its `RESULT`, the CPU-ms the
 * process spent from the burst's start until half of its calls had their reply (a stream's reply is its first byte),
 * per call of the burst: the work before the first byte in a burst such as bench:gateway's 512 streams.
 */
import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { writeHeapSnapshot } from 'node:v8';
import * as core from '@llmrr/core';
import { LLMRouter, createStateStores } from '@llmrr/core';
import { createGateway } from '@llmrr/gateway';

const CALLS = Number(process.env.CALLS ?? 5000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const STREAM = process.env.MODE === 'stream';
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const CHUNK_DELAY_MS = Number(process.env.CHUNK_DELAY_MS ?? 0);
/** `CHUNKS`: content chunks per streamed answer (16, as the benchmark upstream sends); more or fewer to take a chunk's own cost apart. */
const CHUNKS = Number(process.env.CHUNKS ?? 16);
/** `REASONING=1`: the content chunks carry `delta.reasoning_content` (a reasoning model's thinking) instead of `delta.content`. */
const TEXT_FIELD = process.env.REASONING ? 'reasoning_content' : 'content';

const created = 1;
const usage = { prompt_tokens: 12, completion_tokens: 16, total_tokens: 28 };
const jsonAnswer = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created,
  model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: Array.from({ length: 16 }, (_, i) => `word${i}`).join(' ') }, finish_reason: 'stop', logprobs: null }],
  usage,
});
const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'bench-model', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`;
const sse = [
  chunk({ role: 'assistant', content: '' }, null),
  ...Array.from({ length: CHUNKS }, (_, i) => chunk({ [TEXT_FIELD]: `${i === 0 ? '' : ' '}word${i}` }, null)),
  chunk({}, 'stop'),
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'bench-model', choices: [], usage })}\n\n`,
  'data: [DONE]\n\n',
].map((s) => new TextEncoder().encode(s));

/** The upstream's stream as the pull fake hands it out: each chunk when the reader asks (after its delay). */
function pulledStream(): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (CHUNK_DELAY_MS > 0 && i > 1 && i <= CHUNKS) await new Promise((r) => setTimeout(r, CHUNK_DELAY_MS));
      if (i < sse.length) c.enqueue(sse[i++]!);
      else c.close();
    },
  });
}

/**
 * `UPSTREAM=push`: the upstream's chunks pushed as a socket delivers them (the first two at once, then one per
 * timer, `CHUNK_DELAY_MS` apart, or all on one timer without a delay), to a `Response` built as
 * `createUpstreamFetch` builds it: for a build whose core has `DIRECT_BODY`, a body the engines tap without a
 * web stream (as the gateway's `UpstreamBody`); otherwise a web stream fed by `enqueue` with the same
 * high-water mark (as the gateway's upstream fetch did before). The timers are the same for both.
 */
function pushedResponse(init: ResponseInit): Response {
  const DIRECT = (core as Record<string, unknown>).DIRECT_BODY as symbol | undefined;
  type Sink = { data(c: Uint8Array): void; end(): void; error(e: unknown): void };
  let sink: Sink | undefined;
  let i = 0;
  let stopped = false;
  let released = false;
  const early: Uint8Array[] = [];
  const deliver = (c: Uint8Array) => {
    if (sink) sink.data(c);
    else if (!released) early.push(c);
  };
  const step = () => {
    if (stopped) return;
    if (CHUNK_DELAY_MS === 0) while (i < sse.length) deliver(sse[i++]!);
    else {
      deliver(sse[i++]!);
      if (i === 1) deliver(sse[i++]!);
    }
    if (i < sse.length) setTimeout(step, CHUNK_DELAY_MS);
    else {
      stopped = true;
      sink?.end();
    }
  };
  setTimeout(step, 0);
  const tap = (s: Sink) => {
    sink = s;
    for (const c of early.splice(0)) s.data(c);
    if (stopped) s.end();
    return { pause() {}, resume() {}, cancel: () => void (stopped = true), release: () => {
        sink = undefined;
        released = true;
      },
    };
  };
  if (DIRECT) return Object.assign(new Response(null, init), { [DIRECT]: { tap } });
  return new Response(
    new ReadableStream<Uint8Array>(
      {
        start(c) {
          tap({ data: (chunk) => c.enqueue(chunk), end: () => c.close(), error: (e) => c.error(e) });
        },
        cancel() {
          stopped = true;
        },
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
    ),
    init,
  );
}

const PUSH = process.env.UPSTREAM === 'push';
const fetchFn = (async (_url: string | URL | Request, init?: RequestInit) => {
  if (typeof init?.body === 'string' && init.body.includes('"stream":true')) {
    const responseInit = { status: 200, headers: { 'content-type': 'text/event-stream' } };
    return PUSH ? pushedResponse(responseInit) : new Response(pulledStream(), responseInit);
  }
  return new Response(jsonAnswer, { status: 200, headers: { 'content-type': 'application/json' } });
}) as typeof globalThis.fetch;
// Like the gateway's `createUpstreamFetch`, this fetch leaves no abort listener on a call's signal (it adds none), and
// takes a stream attempt's `AttemptSignal`: said as that one says it (`RELEASES_ABORT_LISTENERS`,
// `TAKES_ATTEMPT_SIGNALS`, by their `Symbol.for` names, which builds without them ignore).
Object.assign(fetchFn, { [Symbol.for('@llmrr/core.releasesAbortListeners')]: true, [Symbol.for('@llmrr/core.takesAttemptSignals')]: true });

const router = new LLMRouter(
  { models: [{ name: 'bench', engine: 'openai-compatible', baseURL: 'http://upstream.invalid/v1', apiKey: 'sk-bench', model: 'bench-model', price: { input: 0.15, output: 0.6 } }], routing: { strategy: 'priority' } },
  { fetch: fetchFn },
);
let secret = '';
const stores = process.env.STATE === 'memory' ? await createStateStores({ mode: 'memory' }) : undefined;
if (stores) {
  await stores.tenants.createTenant({ id: 'bench', name: 'Bench', limits: { rpm: 1e9, tpm: 2e9, maxConcurrency: 100_000 }, budget: { amountUsd: 1e9, period: 'total' } });
  secret = (await stores.tenants.createKey('bench', { name: 'bench' })).secret;
}
const gateway = createGateway({ router, ...(stores ? { stores } : {}) });

interface Reply {
  status: number;
  body: string | { frames: AsyncIterator<string, void>; pipe?(sink: { write(piece: string): boolean; drained(): Promise<void> }): Promise<void> };
}
interface Direct {
  route(method: string, path: string, origin: string | undefined): ((incoming: unknown, requestId: string, startedAt: number) => Promise<Reply>) | undefined;
  requestId(headers: unknown): string;
  now(): number;
}
const direct = (gateway as unknown as Record<symbol, Direct>)[Symbol.for('@llmrr/gateway.directRoutes')];
if (!direct) throw new Error('this gateway has no direct routes');
const RESPONSES = process.env.ENDPOINT === 'responses';
const AGENT = process.env.BODY === 'agent';
/**
 * `n` input items as an agent loop sends them: user message, function_call, its output, assistant message, ...;
 * a user message last. `reasoning` adds the model's reasoning item before each call (as the Codex CLI sends it back).
 */
function conversation(n: number, reasoning = false): unknown[] {
  const turn = (i: number): unknown[] => [
    { role: 'user', content: [{ type: 'input_text', text: `Question ${i}: what is the weather in Oslo?` }] },
    ...(reasoning ? [{ type: 'reasoning', id: `rs_${i}`, summary: [{ type: 'summary_text', text: 'Looking up the weather.' }], encrypted_content: 'gAAAAABbench'.repeat(8) }] : []),
    { type: 'function_call', call_id: `call_${i}`, name: 'get_weather', arguments: '{"city":"Oslo"}' },
    { type: 'function_call_output', call_id: `call_${i}`, output: '{"temp":21}' },
    { role: 'assistant', content: [{ type: 'output_text', text: 'It is 21 degrees in Oslo.' }] },
  ];
  const items: unknown[] = [];
  for (let i = 0; items.length < n - 1; i++) items.push(...turn(i));
  items.length = n - 1;
  return [...items, { role: 'user', content: [{ type: 'input_text', text: 'Say sixteen words.' }] }];
}
/** `n` function tools, each with a JSON Schema of four parameters (as the Responses API or chat completions takes them). */
function toolDefinitions(n: number, responses: boolean): unknown[] {
  return Array.from({ length: n }, (_, i) => {
    const name = i === 0 ? 'get_weather' : `tool_${i}`;
    const description = `Tool ${i}: reads a file of the workspace and returns the requested lines as text.`;
    const parameters = {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Path of the file, relative to the workspace root.' },
        start: { type: 'integer', minimum: 1, description: 'First line.' },
        end: { type: 'integer', minimum: 1, description: 'Last line.' },
        mode: { type: 'string', enum: ['text', 'hex'] },
      },
      required: ['path'],
      additionalProperties: false,
    };
    return responses ? { type: 'function', name, description, parameters, strict: false } : { type: 'function', function: { name, description, parameters } };
  });
}
/** What a coding agent (the Codex CLI) sends on every turn of its loop. */
function agentBody(items: number, tools: number): Record<string, unknown> {
  return {
    model: 'bench',
    instructions: 'You are a coding agent running in a terminal. Keep answers short; use the tools to read files.',
    input: conversation(items, true),
    tools: toolDefinitions(tools, true),
    tool_choice: 'auto',
    parallel_tool_calls: false,
    reasoning: { effort: 'medium', summary: 'auto' },
    store: false,
    include: ['reasoning.encrypted_content'],
    prompt_cache_key: '0199b7c6-6a3e-7b32-9a5d-1c2e3f4a5b6c',
    max_output_tokens: 32,
  };
}
const TOOLS = Number(process.env.TOOLS ?? 0);
const route = direct.route('POST', RESPONSES ? '/v1/responses' : '/v1/chat/completions', undefined)!;
const withTools = TOOLS > 0 && !AGENT ? { tools: toolDefinitions(TOOLS, RESPONSES) } : {};
const payload = new TextEncoder().encode(
  JSON.stringify(
    RESPONSES
      ? { ...(AGENT ? agentBody(Number(process.env.ITEMS ?? 11), TOOLS) : { model: 'bench', input: conversation(Number(process.env.ITEMS ?? 1)), max_output_tokens: 32, ...withTools }), ...(STREAM ? { stream: true } : {}) }
      : { model: 'bench', messages: [{ role: 'user', content: 'Say sixteen words.' }], max_tokens: 32, ...withTools, ...(STREAM ? { stream: true, stream_options: { include_usage: true } } : {}) },
  ),
);
const headerValues: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(payload.byteLength), authorization: `Bearer ${secret}` };
const headers = { get: (name: string) => headerValues[name.toLowerCase()] ?? null };

let bytes = 0;
// One signal per worker, as the Node adapter keeps one per connection (each worker is a keep-alive client).
async function once(signal: AbortSignal): Promise<void> {
  const incoming = { headers, bytes: async () => payload, signal, clientIp: '127.0.0.1' };
  const reply = await route(incoming, direct!.requestId(headers), direct!.now());
  if (reply.status !== 200) throw new Error(`status ${reply.status}: ${typeof reply.body === 'string' ? reply.body : ''}`);
  if (typeof reply.body === 'string') bytes += reply.body.length;
  // As the Node adapter writes a stream (node/write-reply.ts): through `pipe` where the build has it, else `frames`.
  else if (reply.body.pipe) await reply.body.pipe({ write: (piece) => ((bytes += piece.length), true), drained: async () => {} });
  else
    for (;;) {
      const next = await reply.body.frames.next();
      if (next.done) break;
      bytes += next.value.length;
    }
}

const connectionSignals = Array.from({ length: CONCURRENCY }, () => new AbortController().signal);

/** `BURST_MARKS=1`: each burst prints `MARK start half` (monotonic microseconds, as a --cpu-prof profile's timestamps: gateway-bench-inproc-profile.ts). */
const MARKS = process.env.BURST_MARKS !== undefined;
/**
 * One burst (`BURSTS`): a call per worker, all started at once; the CPU-ms from the start until half of them had their
 * reply (for a stream, its first byte), per call of the burst. Each stream is then read to its end.
 */
async function burst(): Promise<number> {
  const cpu0 = process.cpuUsage();
  const t0 = MARKS ? process.hrtime.bigint() : 0n;
  const half = Math.ceil(CONCURRENCY / 2);
  let replies = 0;
  let cpuMs = 0;
  await Promise.all(
    connectionSignals.map(async (signal) => {
      const incoming = { headers, bytes: async () => payload, signal, clientIp: '127.0.0.1' };
      const reply = await route(incoming, direct!.requestId(headers), direct!.now());
      if (++replies === half) {
        const cpu = process.cpuUsage(cpu0);
        cpuMs = (cpu.user + cpu.system) / 1000;
        if (MARKS) console.log(`MARK ${t0 / 1000n} ${process.hrtime.bigint() / 1000n}`);
      }
      if (reply.status !== 200) throw new Error(`status ${reply.status}: ${typeof reply.body === 'string' ? reply.body : ''}`);
      if (typeof reply.body === 'string') bytes += reply.body.length;
      else if (reply.body.pipe) await reply.body.pipe({ write: (piece) => ((bytes += piece.length), true), drained: async () => {} });
      else for (let next = await reply.body.frames.next(); !next.done; next = await reply.body.frames.next()) bytes += next.value.length;
    }),
  );
  // A pause between bursts (the timers of the last one's streams end).
  await new Promise((r) => setTimeout(r, 20));
  return cpuMs / CONCURRENCY;
}
async function run(calls: number): Promise<number> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, i) => {
      const signal = connectionSignals[i]!;
      while (next++ < calls) await once(signal);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / calls;
}

await run(Math.min(CALLS, 3000)); // warm-up (JIT)
const BURSTS = Number(process.env.BURSTS ?? 0);
if (BURSTS > 0) {
  for (let b = 0; b < BURSTS; b++) console.log(`RESULT ${STREAM ? 'stream' : 'json'} ${(await burst()).toFixed(4)}`);
  await gateway.close();
  await router.close();
  await stores?.close();
  process.exit(0);
}
for (let r = 0; r < ROUNDS; r++) console.log(`RESULT ${STREAM ? 'stream' : 'json'} ${(await run(CALLS)).toFixed(4)}`);
if (process.env.HEAP_PROFILE) await heapProfile();
if (bytes === 0) throw new Error('no answer bytes');
// Every call removes what it hooked on its connection's signal; a leak would grow with the calls.
const left = connectionSignals.reduce((n, s) => n + getEventListeners(s, 'abort').length, 0);
if (left > 0) throw new Error(`${left} abort listeners left on the connection signals`);
await gateway.close();
await router.close();
await stores?.close();

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated per call in one round, by allocating function (named by its source file in this bundle). */
async function heapProfile(): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await run(CALLS);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } };
  session.disconnect();
  const self = fileURLToPath(import.meta.url);
  const modules = readFileSync(self, 'utf8')
    .split('\n')
    .flatMap((l, i) => (/^\/\/ (\S+\.[cm]?[jt]sx?)$/.test(l) ? [{ line: i, file: l.slice(3).replace(/^(\.\.\/)+/, '') }] : []));
  const place = (url: string, line: number) => (url.endsWith(self) ? (modules.findLast((m) => m.line <= line)?.file ?? 'bundle') : url.replace(/^.*node_modules\//, ''));
  const sites = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode) => {
    const f = n.callFrame;
    const key = `${f.functionName || '(anonymous)'}  ${place(f.url, f.lineNumber)}:${f.lineNumber + 1}`;
    sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  console.log(`HEAP ${(total / CALLS / 1024).toFixed(1)} KiB allocated per call; top sites, bytes per call:`);
  for (const [k, b] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 45)) console.log(`HEAP ${(b / CALLS).toFixed(0).padStart(7)}  ${k}`);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  // The heap held by calls in flight: after a full GC with every worker's call started (the first chunks
  // are out, the later ones spaced by CHUNK_DELAY_MS), against the heap at rest.
  gc();
  // `HEAP_SNAPSHOT=DIR`: heap snapshots at rest and with the calls in flight (rest.heapsnapshot, busy.heapsnapshot), to
  // diff what a call holds by constructor.
  const snapshots = process.env.HEAP_SNAPSHOT;
  if (snapshots) writeHeapSnapshot(`${snapshots}/rest.heapsnapshot`);
  const rest = process.memoryUsage().heapUsed;
  const round = run(CONCURRENCY);
  // `HELD_AT_MS`: when to measure (default 8 chunk delays in; the burst's first calls may still be starting then).
  await new Promise((r) => setTimeout(r, Number(process.env.HELD_AT_MS ?? Math.max(10, CHUNK_DELAY_MS * 8))));
  gc();
  const busy = process.memoryUsage().heapUsed;
  if (snapshots) writeHeapSnapshot(`${snapshots}/busy.heapsnapshot`);
  await round;
  console.log(`HEAP ${((busy - rest) / CONCURRENCY / 1024).toFixed(1)} KiB held per call in flight (${CONCURRENCY} at once${CHUNK_DELAY_MS ? '' : '; without --chunk-delay most have ended by then'})`);
}
