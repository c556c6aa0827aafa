/**
 * What V8 flags do to our gateway's memory and CPU under the benchmark's load: for each flag set, the
 * gateway of gateway-bench.ts (bundled, plain `node`, auth + limits + budget + SQLite ledger + metrics)
 * runs behind the mock upstream, takes `--duration` seconds of JSON requests at concurrency 64
 * (autocannon) and then a burst of `--streams` concurrent streams; RSS is sampled every 250 ms.
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-rss.ts \
 *     [--duration 15] [--streams 512] [--soak 0] [--rounds 1] [--flags "--max-semi-space-size=16|--max-semi-space-size=4"]
 *     [--base-core DIR --base-gateway DIR]
 *
 * `--flags` is a `|`-separated list of flag sets (one process each; the empty set, the gateway server's defaults,
 * always runs first: node started with `GATEWAY_NODE_FLAGS` (`--max-semi-space-size=8 --v8-pool-size=2`, as the server's start
 * scripts do), `GATEWAY_NODE_ENV` in its environment (`MALLOC_MMAP_THRESHOLD_=131072`) and the heap growing percent the server sets at startup; a set's own flags come after, so
 * `--max-semi-space-size=16` is V8's default young generation, `--v8-pool-size=4` node's default V8 threads and
 * `LLMRR_HEAP_GROWING_PERCENT=0` V8's own growth;
 * `NAME=value` tokens are set in the environment, e.g. `MALLOC_ARENA_MAX=2`, and `NAME=` removes one, e.g.
 * `MALLOC_MMAP_THRESHOLD_=` for glibc's own threshold instead of the server's `GATEWAY_NODE_ENV`); `--rounds` repeats the whole list,
 * interleaved, to see the noise of a shared machine.
 * With `--base-core` and `--base-gateway` (other copies of packages/core/src and packages/gateway/src, e.g. from
 * git HEAD under node_modules/.cache), a flag set containing the token `BASE` runs a bundle of those sources
 * instead of the current ones (`--flags "BASE"` compares the two builds with the same settings).
 * Prints, per flag set: CPU-ms per request (from /proc), req/s, RSS idle, max and median under load,
 * RSS after the burst, and the burst's CPU-ms per stream. `--soak S` then loads the gateway again at c=64
 * for S seconds after the burst, as `pnpm bench:gateway -- --soak 600` does after its streams (a burst
 * leaves its mark on the heap and malloc's arenas), and prints that phase's RSS median / max, its CPU-ms per
 * request, and where the memory is at its end (from /proc/<pid>/smaps: the node binary's pages, malloc's
 * main arena `[heap]`, other anonymous memory: V8's heap, thread arenas, WebAssembly).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GATEWAY_NODE_ENV, GATEWAY_NODE_FLAGS } from '@llmrr/gateway/node';
import { bundleForNode } from './gateway-bench-bundle.js';
import { cpuMs, rssMb } from './proc-stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const num = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v >= 0 ? v : fallback;
};
const DURATION_S = Math.min(num('duration', 15), 600);
const STREAMS = Math.min(num('streams', 512), 2048);
const ROUNDS = Math.min(num('rounds', 1), 10);
const SOAK_S = Math.min(num('soak', 0), 900);
const flagArg = args.includes('--flags') ? args[args.indexOf('--flags') + 1]! : '--max-semi-space-size=16|--max-semi-space-size=4';
const str = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const BASE = str('base-core') && str('base-gateway') ? { core: str('base-core')!, gateway: str('base-gateway')! } : undefined;
const FLAG_SETS = ['', ...flagArg.split('|').map((s) => s.trim()).filter((s) => s !== '')];

type Autocannon = (opts: Record<string, unknown>) => Promise<{ requests: { average: number }; non2xx: number; errors: number; '2xx': number }>;

function startProc(argv: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; line: string; err: () => string }> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', ...env };
    // `NAME=` in a flag set removes NAME (an empty MALLOC_MMAP_THRESHOLD_ would read as 0 to glibc).
    for (const [k, v] of Object.entries(env)) if (v === '') delete childEnv[k];
    const child = spawn(process.execPath, argv, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => reject(new Error(`timeout starting ${argv.join(' ')}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({ child, line, err: () => err });
      }
    });
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited with ${code}:\n${err}`)));
  });
}


/**
 * Where a process's resident memory is, MB, from /proc/<pid>/smaps: pages of the executable (`binary`, file-backed
 * and shared, but counted in RSS), malloc's main arena (`mallocHeap`, the `[heap]` mapping), other anonymous memory
 * (`anon`: V8's heap, malloc's thread arenas, WebAssembly memory, stacks) and other files (shared libraries, native
 * addons).
 */
function memoryMapMb(pid: number): { binary: number; mallocHeap: number; anon: number; files: number } {
  const exe = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  const out = { binary: 0, mallocHeap: 0, anon: 0, files: 0 };
  let bucket: keyof typeof out = 'anon';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? '';
      bucket = name === '[heap]' ? 'mallocHeap' : name === '' || name.startsWith('[') ? 'anon' : name === exe || name.endsWith('/node') ? 'binary' : 'files';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[bucket] += Number(rss[1]) / 1024;
  }
  return out;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function body(stream: boolean): string {
  return JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say sixteen words.' }], max_tokens: 32, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}) });
}

function streamOnce(port: number, key: string, agent: Agent): Promise<boolean> {
  return new Promise((resolve) => {
    const payload = body(true);
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${key}` } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(res.statusCode === 200 && text.includes('[DONE]')));
        res.on('error', () => resolve(false));
      },
    );
    req.on('error', () => resolve(false));
    req.end(payload);
  });
}

async function measure(autocannon: Autocannon, files: { current: string; base?: string }, upstreamUrl: string, flags: string) {
  // `NAME=value` tokens are environment variables (e.g. MALLOC_ARENA_MAX=2), `BASE` picks the base build, the rest node/V8 flags.
  const all = flags.split(/\s+/).filter(Boolean);
  if (all.includes('BASE') && !files.base) throw new Error('BASE needs --base-core and --base-gateway');
  const gatewayFile = all.includes('BASE') ? files.base! : files.current;
  const tokens = all.filter((t) => t !== 'BASE');
  const env = Object.fromEntries(tokens.filter((t) => /^[A-Z_][A-Z0-9_]*=/.test(t)).map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
  const nodeFlags = tokens.filter((t) => !/^[A-Z_][A-Z0-9_]*=/.test(t));
  const gw = await startProc([...GATEWAY_NODE_FLAGS, ...nodeFlags, gatewayFile], { ...GATEWAY_NODE_ENV, ...env, UPSTREAM_URL: upstreamUrl, BENCH_GC_LOG: '1' }, /^PORT \d+ KEY /);
  let requests = 0;
  try {
    const pid = gw.child.pid!;
    const [, portText, key] = /PORT (\d+) KEY (\S+)/.exec(gw.line)!;
    const port = Number(portText);
    const opts = { url: `http://127.0.0.1:${port}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: body(false), connections: 64 };
    const idle = rssMb(pid);
    await autocannon({ ...opts, duration: 2 });
    const samples: number[] = [];
    const timer = setInterval(() => samples.push(rssMb(pid)), 250);
    const cpu0 = cpuMs(pid);
    const r = await autocannon({ ...opts, duration: DURATION_S });
    requests = r['2xx'];
    const cpu = cpuMs(pid) - cpu0;
    clearInterval(timer);
    const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
    const cpuS0 = cpuMs(pid);
    const ok = (await Promise.all(Array.from({ length: STREAMS }, () => streamOnce(port, key!, agent)))).filter(Boolean).length;
    const cpuS = cpuMs(pid) - cpuS0;
    agent.destroy();
    const rssAfterStreams = rssMb(pid);
    let soak: { median: number; max: number; cpuMsPerRequest: number; map: string } | undefined;
    if (SOAK_S > 0) {
      const soakSamples: number[] = [];
      const soakTimer = setInterval(() => soakSamples.push(rssMb(pid)), 1000);
      const cpuK0 = cpuMs(pid);
      const k = await autocannon({ ...opts, duration: SOAK_S });
      const cpuK = cpuMs(pid) - cpuK0;
      clearInterval(soakTimer);
      const m = memoryMapMb(pid);
      soak = {
        median: median(soakSamples),
        max: Math.max(...soakSamples),
        cpuMsPerRequest: cpuK / k['2xx'],
        map: `binary ${m.binary.toFixed(0)}, [heap] ${m.mallocHeap.toFixed(0)}, other anon ${m.anon.toFixed(0)}, other files ${m.files.toFixed(0)}`,
      };
    }
    return {
      flags: flags || '(gateway defaults)',
      cpuMsPerRequest: cpu / r['2xx'],
      rps: r.requests.average,
      failed: r.non2xx + r.errors,
      rssIdle: idle,
      rssMax: Math.max(...samples),
      rssMedian: median(samples),
      streamsOk: ok,
      cpuMsPerStream: cpuS / STREAMS,
      rssAfterStreams,
      soak,
    };
  } finally {
    const exited = new Promise((resolve) => gw.child.once('exit', resolve));
    gw.child.kill('SIGTERM');
    await exited;
    // GC pauses over the whole life of the process (warm-up, load and burst), per JSON request of the load.
    const gc = /GC ([\d.]+) ms in (\d+) pauses/.exec(gw.err());
    if (gc && requests > 0) gcLine.push(`${flags || '(gateway defaults)'}: GC ${gc[1]} ms in ${gc[2]} pauses, ${(Number(gc[1]) / requests).toFixed(3)} ms per request of the load`);
  }
}

const gcLine: string[] = [];

async function main(): Promise<void> {
  const autocannon = ((await import(pathToFileURL(join(here, 'gateway-peers', 'node_modules', 'autocannon', 'autocannon.js')).href)) as { default: Autocannon }).default;
  const upstreamFile = await bundleForNode('gateway-bench-upstream.ts');
  const files = {
    current: await bundleForNode('gateway-bench-llmrr.ts'),
    ...(BASE ? { base: await bundleForNode('gateway-bench-llmrr.ts', { packagesSrc: BASE, name: 'gateway-bench-rss-base.mjs' }) } : {}),
  };
  const up = await startProc([upstreamFile], {}, /^PORT \d+/);
  const rows: string[] = [];
  const soakRows: string[] = [];
  try {
    const upstreamUrl = `http://127.0.0.1:${/PORT (\d+)/.exec(up.line)![1]}`;
    for (let round = 0; round < ROUNDS; round++) {
      for (const flags of FLAG_SETS) {
        const m = await measure(autocannon, files, upstreamUrl, flags);
        const row =
          `| ${m.flags} | ${m.cpuMsPerRequest.toFixed(3)} | ${m.rps.toFixed(0)} | ${m.rssIdle.toFixed(0)} | ${m.rssMedian.toFixed(0)} / ${m.rssMax.toFixed(0)} | ` +
          `${m.streamsOk} | ${m.cpuMsPerStream.toFixed(2)} | ${m.rssAfterStreams.toFixed(0)} |`;
        console.log(row + (m.failed ? ` (${m.failed} failed)` : ''));
        rows.push(row);
        if (m.soak) {
          const soakRow = `| ${m.flags} | ${m.soak.cpuMsPerRequest.toFixed(3)} | ${m.soak.median.toFixed(0)} / ${m.soak.max.toFixed(0)} | ${m.soak.map} |`;
          console.log(`soak: ${soakRow}`);
          soakRows.push(soakRow);
        }
      }
    }
  } finally {
    up.child.kill('SIGTERM');
  }
  console.log(
    `\nc=64 JSON for ${DURATION_S} s, then ${STREAMS} concurrent streams; RSS sampled every 250 ms:\n\n` +
      `| V8 flags | CPU-ms / req | req/s | RSS idle MB | RSS under load MB (median / max) | streams ok | CPU-ms / stream | RSS after streams MB |\n` +
      `| --- | --- | --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}\n\nGC pauses (whole process life):\n${gcLine.join('\n')}`,
  );
  if (soakRows.length > 0)
    console.log(
      `\nSoak: c=64 JSON for ${SOAK_S} s after the burst, RSS sampled every second; memory map at its end (MB, /proc/<pid>/smaps):\n\n` +
        `| V8 flags | CPU-ms / req | RSS MB (median / max) | memory at the end |\n| --- | --- | --- | --- |\n${soakRows.join('\n')}`,
    );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
