/**
 * CPU of the gateway's own request path (gateway + router + engine, no sockets: see
 * gateway-bench-inproc-run.ts), for the current sources and, with `--base-core DIR --base-gateway DIR`,
 * for other copies of packages/core/src and packages/gateway/src (each placed under its package's
 * node_modules/.cache so its imports resolve), interleaved in fresh processes so a shared machine's noise
 * falls on both alike. A CPU-bound loop in one process is far steadier than the socket benchmarks on a
 * loaded machine, so this is the place to measure a change to the gateway's or router's code.
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-inproc.ts \
 *     [--base-core DIR --base-gateway DIR] [--mode json|stream] [--state memory] [--calls 5000] [--procs 4]
 *     [--concurrency 64] [--chunk-delay 0] [--upstream pull|push] [--endpoint chat|responses] [--items 1]
 *     [--tools 0] [--body agent] [--heap] [--bursts N] [--chunks 16] [--reasoning] [--gc]
 *
 * Prints per build the CPU-ms per call of every round (`--procs` processes x 3 rounds) and the minimum
 * and median. `--concurrency 512 --chunk-delay 5` (stream mode) spaces the upstream's chunks 5 ms apart as
 * the benchmark upstream does, so 512 streams are alive at once as in the burst of bench:gateway.
 * `--upstream push` (stream mode) pushes the upstream's chunks as a socket does, into the kind of body the
 * build's `createUpstreamFetch` makes (a `DIRECT_BODY` where the core has it, else a web stream), instead
 * of handing each out when the reader pulls (the default, as earlier measurements ran). `--heap`
 * instead runs each build once and prints what one round allocates per call, by allocating function (V8's
 * sampling heap profiler), and the heap a call in flight holds (measured with every call of a round in
 * flight, after a full GC; the environment's `HELD_AT_MS` and `HEAP_SNAPSHOT=DIR` go to the runs: see
 * gateway-bench-inproc-run.ts). `--endpoint responses` calls `POST /v1/responses` (the Vercel AI SDK's body: one
 * user message with an `input_text` part) instead of `POST /v1/chat/completions`, over the same upstream;
 * `--items N` sends an agent loop's conversation of N input items instead (user message, function_call,
 * function_call_output, assistant message, repeated; the last one a user message). `--tools N` adds N
 * function tools to the body (each with a JSON Schema of four parameters, in the endpoint's format).
 * `--body agent` (responses only) sends what a coding agent such as the Codex CLI sends on every turn:
 * instructions, function tools (8 unless `--tools`), `tool_choice`, `parallel_tool_calls`,
 * `reasoning: {effort, summary}`, `store: false`, `include`, `prompt_cache_key`, and a conversation (11 items
 * unless `--items`) of user message, reasoning item, function_call, function_call_output and assistant
 * message, repeated, a user message last. `--bursts N` runs, in place of the 3 rounds per process, N bursts of
 * `--concurrency` calls started at once, and takes as each burst's figure the CPU-ms until half of its calls had their
 * reply (a stream's first byte) per call: the work before the first byte in a burst, as bench:gateway's 512-stream
 * burst measures it in time to first byte (the first bursts of a process are still warming up: compare like rounds).
 * `--chunks N` (stream mode): N content chunks per answer instead of the benchmark upstream's 16; a run at 16 and one at
 * a few hundred take one chunk's own cost (CPU, bytes allocated) apart from the stream's. `--reasoning`: those chunks
 * carry `delta.reasoning_content` (a reasoning model's thinking) instead of `delta.content`. `--gc` (rounds, not bursts)
 * also prints the bytes per call the young-generation GCs promoted to the old generation (`node --trace-gc-nvp`), a
 * figure the machine's load moves far less than CPU: a call whose objects live longer than it (a hook holding the
 * whole call) shows there first.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleForNode } from './gateway-bench-bundle.js';

const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const opt = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const MODE = opt('mode') === 'stream' ? 'stream' : 'json';
const STATE = opt('state') === 'memory' ? 'memory' : 'off';
const CALLS = Math.min(Number(opt('calls') ?? (MODE === 'stream' ? 2000 : 5000)) || 5000, 100_000);
const PROCS = Math.min(Number(opt('procs') ?? 4) || 4, 20);
const CONCURRENCY = Math.min(Number(opt('concurrency') ?? 64) || 64, 4096);
const CHUNK_DELAY_MS = Math.min(Number(opt('chunk-delay') ?? 0) || 0, 100);
const CHUNKS = Math.min(Math.max(Number(opt('chunks') ?? 16) || 16, 1), 4096);
const REASONING = args.includes('--reasoning');
const HEAP = args.includes('--heap');
const GC = args.includes('--gc');
const BURSTS = Math.min(Math.max(Number(opt('bursts') ?? 0) || 0, 0), 100);
const UPSTREAM = opt('upstream') === 'push' ? 'push' : 'pull';
const ENDPOINT = opt('endpoint') === 'responses' ? 'responses' : 'chat';
const BODY = opt('body') === 'agent' ? 'agent' : 'plain';
if (opt('body') !== undefined && BODY !== 'agent') throw new Error(`--body ${opt('body')}: the only body is agent`);
if (BODY === 'agent' && ENDPOINT !== 'responses') throw new Error('--body agent needs --endpoint responses');
const ITEMS = Math.min(Math.max(Number(opt('items') ?? (BODY === 'agent' ? 11 : 1)) || 1, 1), 1000);
const TOOLS = Math.min(Math.max(Number(opt('tools') ?? (BODY === 'agent' ? 8 : 0)) || 0, 0), 128);
const baseCore = opt('base-core');
const baseGateway = opt('base-gateway');

/** `--gc`: bytes promoted to the old generation per call by this build's processes (rounds after the first). */
const promotedPerCall = new Map<string, number[]>();

/**
 * What the young-generation GCs of a run promoted (V8's `--trace-gc-nvp` lines of its scavenges), per call of the rounds
 * after the first (that one warms up): the bytes a call keeps alive past a scavenge. Steadier than CPU on a loaded
 * machine, and what a change that makes a call's objects live longer (a closure holding the whole call) moves first.
 */
function promotedBytesPerCall(out: string): number | undefined {
  const first = out.indexOf('RESULT ');
  if (first < 0) return undefined;
  let promoted = 0;
  for (const line of out.slice(out.indexOf('\n', first)).split('\n')) {
    if (!line.includes(' gc=s ')) continue;
    const m = / promoted=(\d+)/.exec(line);
    if (m) promoted += Number(m[1]);
  }
  const rounds = [...out.matchAll(/^RESULT /gm)].length - 1;
  return rounds > 0 ? promoted / (rounds * CALLS) : undefined;
}

function runOnce(file: string, name = ''): Promise<number[]> {
  return new Promise((res, reject) => {
    const child = spawn(process.execPath, [...(HEAP ? ['--expose-gc'] : []), ...(GC && !HEAP ? ['--trace-gc-nvp'] : []), file], {
      env: { ...process.env, NODE_OPTIONS: '', ...(HEAP ? { HEAP_PROFILE: '1' } : {}), MODE, CALLS: String(CALLS), ROUNDS: HEAP ? '0' : '3', ...(BURSTS > 0 && !HEAP ? { BURSTS: String(BURSTS) } : {}), CONCURRENCY: String(CONCURRENCY), CHUNK_DELAY_MS: String(CHUNK_DELAY_MS), CHUNKS: String(CHUNKS), ...(REASONING ? { REASONING: '1' } : {}), UPSTREAM, ENDPOINT, ITEMS: String(ITEMS), TOOLS: String(TOOLS), BODY, ...(STATE === 'memory' ? { STATE } : {}) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`in-process run exited with ${code}:\n${out}`));
      else if (HEAP) {
        console.log(out.split('\n').filter((l) => l.startsWith('HEAP')).map((l) => l.slice(5)).join('\n'));
        res([]);
      } else {
        if (GC && BURSTS === 0) {
          const b = promotedBytesPerCall(out);
          if (b !== undefined) (promotedPerCall.get(name) ?? promotedPerCall.set(name, []).get(name)!).push(b);
        }
        res([...out.matchAll(/^RESULT \w+ ([\d.]+)$/gm)].map((m) => Number(m[1])));
      }
    });
  });
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function main(): Promise<void> {
  // Bundle names of this run's own (two runs at once must not overwrite each other's bundles).
  const builds = [{ name: 'current', file: await bundleForNode('gateway-bench-inproc-run.ts', { name: `gateway-bench-inproc-run-${process.pid}.mjs` }) }];
  if (baseCore && baseGateway) {
    builds.push({ name: 'base', file: await bundleForNode('gateway-bench-inproc-run.ts', { packagesSrc: { core: resolve(baseCore), gateway: resolve(baseGateway) }, name: `gateway-bench-inproc-base-${process.pid}.mjs` }) });
  }
  const results = new Map<string, number[]>(builds.map((b) => [b.name, []]));
  if (HEAP) {
    for (const b of builds) {
      console.log(`${b.name}:`);
      await runOnce(b.file);
      rmSync(b.file, { force: true });
    }
    return;
  }
  for (let p = 0; p < PROCS; p++) {
    for (const b of p % 2 === 0 ? builds : [...builds].reverse()) {
      const r = await runOnce(b.file, b.name);
      results.get(b.name)!.push(...r);
      console.log(`${b.name}: ${r.map((x) => x.toFixed(4)).join(' ')}`);
    }
  }
  const shape = [...(ITEMS > 1 ? [`${ITEMS} input items`] : []), ...(TOOLS > 0 ? [`${TOOLS} tools`] : [])].join(', ');
  const body = BODY === 'agent' ? ` (agent body: ${shape})` : shape ? ` (${shape})` : '';
  const what = BURSTS > 0 ? `${BURSTS} bursts of ${CONCURRENCY} calls per process` : `${CALLS} calls per round at concurrency ${CONCURRENCY}`;
  console.log(`\n${ENDPOINT}${body} ${MODE} calls, state ${STATE}, ${what}${CHUNKS !== 16 ? `, ${CHUNKS} content chunks` : ''}${REASONING ? ' (reasoning)' : ''}${CHUNK_DELAY_MS ? `, chunks ${CHUNK_DELAY_MS} ms apart` : ''}${MODE === 'stream' ? `, upstream ${UPSTREAM}` : ''}, CPU-ms per call${BURSTS > 0 ? ' until half the burst had its reply' : ''}:`);
  for (const [name, v] of results) console.log(`  ${name}: min ${Math.min(...v).toFixed(4)}, median ${median(v).toFixed(4)} (${v.length} rounds)`);
  if (promotedPerCall.size > 0) {
    console.log('bytes promoted to the old generation per call (young-generation GCs, rounds after the first of each process):');
    for (const [name, v] of promotedPerCall) console.log(`  ${name}: median ${median(v).toFixed(0)}, min ${Math.min(...v).toFixed(0)}, max ${Math.max(...v).toFixed(0)} (${v.length} processes)`);
  }
  for (const b of builds) rmSync(b.file, { force: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
