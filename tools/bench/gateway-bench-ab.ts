/**
 * A/B of two builds of our gateway on the benchmark's load, interleaved, so a shared machine's noise
 * falls on both alike: the current sources against other copies of packages/core/src and
 * packages/gateway/src (`--base-core DIR --base-gateway DIR`; put each copy under its package's
 * node_modules/.cache, e.g. packages/core/node_modules/.cache/ab/src, so its third-party imports resolve).
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-ab.ts \
 *     --base-core DIR --base-gateway DIR \
 *     [--rounds 5] [--duration 4] [--stream] [--connections 64] [--burst 512 [--floor]]
 *
 * Each round starts both gateways fresh (behind one mock upstream), warms each for 1 s, then measures each
 * for `--duration` s with autocannon (JSON requests, or streams with `--stream`), in alternating order.
 * Prints CPU-ms per request (from /proc) per round and the median of each. `--burst N` instead times the
 * first byte of N concurrent streams on each fresh gateway (after the 1 s warm-up), against the mock
 * upstream directly in the same round, and prints the TTFB p50 ratios and CPU-ms per stream; `--floor` adds the
 * floor proxy (gateway-bench-floor.ts) to each round under the same conditions. Extra environment (e.g.
 * `BENCH_STATE=off`) goes to both gateways. Both builds of our gateway (not the floor or the upstream) run
 * with the server's node flags, `GATEWAY_NODE_FLAGS` from '@llmrr/gateway/node' (`--max-semi-space-size=8 --v8-pool-size=2`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GATEWAY_NODE_ENV, GATEWAY_NODE_FLAGS } from '@llmrr/gateway/node';
import { bundleForNode } from './gateway-bench-bundle.js';
import { streamOnce } from './stream-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const num = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const ROUNDS = Math.min(num('rounds', 5), 50);
const DURATION_S = Math.min(num('duration', 4), 120);
const CONNECTIONS = Math.min(num('connections', 64), 1024);
const STREAM = args.includes('--stream');
const FLOOR = args.includes('--floor');
const dirArg = (name: string) => (args.includes(`--${name}`) ? resolve(args[args.indexOf(`--${name}`) + 1]!) : undefined);
const BASE_CORE = dirArg('base-core');
const BASE_GATEWAY = dirArg('base-gateway');
if (!BASE_CORE || !BASE_GATEWAY) throw new Error('--base-core DIR and --base-gateway DIR are required (copies of packages/core/src and packages/gateway/src)');

type Autocannon = (opts: Record<string, unknown>) => Promise<{ requests: { average: number }; non2xx: number; errors: number; '2xx': number }>;

function startProc(argv: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((res, reject) => {
    const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) res({ child, line });
    });
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited with ${code}`)));
  });
}

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** `--burst N`: instead of a load, time the first byte of N concurrent streams (TTFB p50, against direct in the same round). */
const BURST = Math.min(num('burst', 0), 2048);
async function burst(url: string, headers: Record<string, string>, model: string, pid: number | undefined): Promise<{ p50: number; cpu: number; ok: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  try {
    for (let i = 0; i < 5; i++) await streamOnce(url, headers, model, agent);
    const cpu0 = pid ? cpuMs(pid) : 0;
    const many = await Promise.all(Array.from({ length: BURST }, () => streamOnce(url, headers, model, agent)));
    const cpu = pid ? (cpuMs(pid) - cpu0) / BURST : 0;
    const v = many.map((m) => m.ttfbMs).filter(Number.isFinite).sort((a, b) => a - b);
    return { p50: v[Math.floor(v.length / 2)] ?? NaN, cpu, ok: many.filter((m) => m.ok).length };
  } finally {
    agent.destroy();
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

async function main(): Promise<void> {
  const autocannon = ((await import(pathToFileURL(join(here, 'gateway-peers', 'node_modules', 'autocannon', 'autocannon.js')).href)) as { default: Autocannon }).default;
  const upstreamFile = await bundleForNode('gateway-bench-upstream.ts');
  const builds = [
    { name: 'current', file: await bundleForNode('gateway-bench-llmrr.ts', { name: `gateway-bench-ab-current-${process.pid}.mjs` }) },
    { name: 'base', file: await bundleForNode('gateway-bench-llmrr.ts', { packagesSrc: { core: BASE_CORE!, gateway: BASE_GATEWAY! }, name: `gateway-bench-ab-base-${process.pid}.mjs` }) },
    ...(BURST && FLOOR ? [{ name: 'floor', file: await bundleForNode('gateway-bench-floor.ts', { name: `gateway-bench-ab-floor-${process.pid}.mjs` }) }] : []),
  ];
  const up = await startProc([upstreamFile], {}, /^PORT \d+/);
  const results = new Map<string, number[]>(builds.map((b) => [b.name, []]));
  const cpus = new Map<string, number[]>(builds.map((b) => [b.name, []]));
  const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say sixteen words.' }], max_tokens: 32, ...(STREAM ? { stream: true, stream_options: { include_usage: true } } : {}) });
  try {
    const upstreamUrl = `http://127.0.0.1:${/PORT (\d+)/.exec(up.line)![1]}`;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? builds : [...builds].reverse();
      const line: string[] = [];
      for (const b of order) {
        const floor = b.name === 'floor';
        // Our gateway runs with the server's node flags and environment; the floor proxy with node's defaults.
        const gw = await startProc([...(floor ? [] : GATEWAY_NODE_FLAGS), b.file], floor ? { UPSTREAM_URL: upstreamUrl } : { ...GATEWAY_NODE_ENV, UPSTREAM_URL: upstreamUrl }, floor ? /^PORT \d+/ : /^PORT \d+ KEY /);
        try {
          const [, port, key = 'none'] = /PORT (\d+)(?: KEY (\S+))?/.exec(gw.line)!;
          const opts = { url: `http://127.0.0.1:${port}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body, connections: CONNECTIONS };
          await autocannon({ ...opts, duration: 1 });
          if (BURST) {
            const direct = await burst(upstreamUrl, {}, 'bench-model', undefined);
            const ours = await burst(`http://127.0.0.1:${port}`, { authorization: `Bearer ${key}` }, floor ? 'bench-model' : 'bench', gw.child.pid);
            results.get(b.name)!.push(ours.p50 / direct.p50);
            cpus.get(b.name)!.push(ours.cpu);
            line.push(`${b.name} ttfb p50 ${ours.p50.toFixed(1)} ms vs direct ${direct.p50.toFixed(1)} (${(ours.p50 / direct.p50).toFixed(2)}x), ${ours.cpu.toFixed(2)} CPU-ms/stream, ${ours.ok} ok`);
            continue;
          }
          const cpu0 = cpuMs(gw.child.pid!);
          const r = await autocannon({ ...opts, duration: DURATION_S });
          const perRequest = (cpuMs(gw.child.pid!) - cpu0) / r['2xx'];
          results.get(b.name)!.push(perRequest);
          line.push(`${b.name} ${perRequest.toFixed(3)} (${r.requests.average.toFixed(0)}/s${r.non2xx + r.errors ? `, ${r.non2xx + r.errors} failed` : ''})`);
        } finally {
          const exited = new Promise((res) => gw.child.once('exit', res));
          gw.child.kill('SIGTERM');
          await exited;
        }
      }
      console.log(`round ${round + 1}: ${line.join(', ')}`);
    }
  } finally {
    up.child.kill('SIGTERM');
    for (const b of builds) rmSync(b.file, { force: true });
  }
  const [cur, base] = [median(results.get('current')!), median(results.get('base')!)];
  if (BURST) {
    const of = (name: string) => `${median(results.get(name)!).toFixed(2)}x, ${median(cpus.get(name)!).toFixed(2)} CPU-ms/stream`;
    console.log(`\n${BURST} concurrent streams, ${ROUNDS} rounds, medians of TTFB p50 as a multiple of direct and of CPU per stream: current ${of('current')}, base ${of('base')}${FLOOR ? `, floor ${of('floor')}` : ''}`);
    return;
  }
  console.log(
    `\n${STREAM ? 'streams' : 'JSON requests'} at c=${CONNECTIONS}, ${ROUNDS} rounds of ${DURATION_S} s, CPU-ms per ${STREAM ? 'stream' : 'request'} (median): ` +
      `current ${cur.toFixed(3)}, base ${base.toFixed(3)} (${(((cur - base) / base) * 100).toFixed(1)}%)`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
