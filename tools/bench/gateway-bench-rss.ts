/**
 * What V8 flags do to our gateway's memory and CPU under the benchmark's load: for each flag set, the
 * gateway of gateway-bench.ts (bundled, plain `node`, auth + limits + budget + SQLite ledger + metrics)
 * runs behind the mock upstream, takes `--duration` seconds of JSON requests at concurrency 64
 * (autocannon) and then a burst of `--streams` concurrent streams; RSS is sampled every 250 ms.
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-rss.ts \
 *     [--duration 15] [--streams 512] [--rounds 1] [--flags "--max-semi-space-size=4|--max-semi-space-size=8"]
 *
 * `--flags` is a `|`-separated list of flag sets (one process each; the empty set, the gateway's defaults
 * (V8's, except the heap growing percent the gateway server sets: `LLMRR_HEAP_GROWING_PERCENT=0` is V8's own), always
 * runs first; `NAME=value` tokens are set in the environment, e.g. `MALLOC_ARENA_MAX=2`); `--rounds` repeats the whole list, interleaved, to see the noise of a shared machine.
 * Prints, per flag set: CPU-ms per request (from /proc), req/s, RSS idle, max and median under load,
 * RSS after the burst, and the burst's CPU-ms per stream.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
const flagArg = args.includes('--flags') ? args[args.indexOf('--flags') + 1]! : '--max-semi-space-size=4|--max-semi-space-size=8';
const FLAG_SETS = ['', ...flagArg.split('|').map((s) => s.trim()).filter((s) => s !== '')];

type Autocannon = (opts: Record<string, unknown>) => Promise<{ requests: { average: number }; non2xx: number; errors: number; '2xx': number }>;

function startProc(argv: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; line: string; err: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

async function measure(autocannon: Autocannon, gatewayFile: string, upstreamUrl: string, flags: string) {
  // `NAME=value` tokens are environment variables (e.g. MALLOC_ARENA_MAX=2), the rest node/V8 flags.
  const tokens = flags.split(/\s+/).filter(Boolean);
  const env = Object.fromEntries(tokens.filter((t) => /^[A-Z_][A-Z0-9_]*=/.test(t)).map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
  const nodeFlags = tokens.filter((t) => !/^[A-Z_][A-Z0-9_]*=/.test(t));
  const gw = await startProc([...nodeFlags, gatewayFile], { ...env, UPSTREAM_URL: upstreamUrl, BENCH_GC_LOG: '1' }, /^PORT \d+ KEY /);
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
      rssAfterStreams: rssMb(pid),
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
  const gatewayFile = await bundleForNode('gateway-bench-llmrr.ts');
  const up = await startProc([upstreamFile], {}, /^PORT \d+/);
  const rows: string[] = [];
  try {
    const upstreamUrl = `http://127.0.0.1:${/PORT (\d+)/.exec(up.line)![1]}`;
    for (let round = 0; round < ROUNDS; round++) {
      for (const flags of FLAG_SETS) {
        const m = await measure(autocannon, gatewayFile, upstreamUrl, flags);
        const row =
          `| ${m.flags} | ${m.cpuMsPerRequest.toFixed(3)} | ${m.rps.toFixed(0)} | ${m.rssIdle.toFixed(0)} | ${m.rssMedian.toFixed(0)} / ${m.rssMax.toFixed(0)} | ` +
          `${m.streamsOk} | ${m.cpuMsPerStream.toFixed(2)} | ${m.rssAfterStreams.toFixed(0)} |`;
        console.log(row + (m.failed ? ` (${m.failed} failed)` : ''));
        rows.push(row);
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
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
