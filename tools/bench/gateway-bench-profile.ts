/**
 * CPU profile of our gateway under load, to see where its time goes:
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-profile.ts \
 *     [--duration 10] [--connections 64] [--stream] [--burst N] [--floor] [--top 40] [--keep] [--no-profile] [--tsx]
 *     [--gateway-src DIR [--core-src DIR]]
 *
 * Starts the mock upstream and the benchmark gateway (gateway-bench-llmrr.ts, bundled for plain node as
 * gateway-bench.ts runs it; `--tsx` runs the TypeScript through tsx instead; `--gateway-src DIR` bundles
 * another copy of packages/gateway/src, with `--core-src DIR` also of packages/core/src; each copy placed
 * under its package's node_modules/.cache so its imports resolve) with `node --cpu-prof`,
 * drives `POST /v1/chat/completions` with autocannon (loopback only, bounded by --duration), stops the
 * gateway (the profile is written on exit) and prints the hottest functions by self time, and the same
 * time grouped by package/file, after the gateway's CPU time per request (from /proc; the profiler itself
 * adds some, `--no-profile` measures without it). Frames in the bundle are named by their source file (line
 * numbers are the bundle's). `--keep` leaves the .cpuprofile (open it in Chrome DevTools). Extra environment
 * (e.g. `BENCH_FETCH=global`, `BENCH_STATE=off`) is passed on to the gateway process. Our gateway (not the floor
 * proxy or the upstream) runs with the server's node flags, `GATEWAY_NODE_FLAGS` from '@llmrr/gateway/node'
 * (`--max-semi-space-size=8 --v8-pool-size=2`), as the server's start script runs it.
 *
 * `--burst N` profiles the 512-stream burst of the benchmark instead of a steady load: for `--duration` s,
 * bursts of N concurrent streams one after another, each from a fresh client agent (N new connections, as
 * bench:gateway and gateway-bench-ab.ts --burst make them); it prints the CPU per stream (user and system)
 * and the connections the proxy holds to the upstream after the bursts. `--floor` runs the floor proxy
 * (gateway-bench-floor.ts) in place of our gateway, to compare both profiles under the same load.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent } from 'node:http';
import { GATEWAY_NODE_ENV, GATEWAY_NODE_FLAGS } from '@llmrr/gateway/node';
import { bundleForNode } from './gateway-bench-bundle.js';
import { cpuMs, rssMb, syscallCounts } from './proc-stats.js';
import { streamOnce } from './stream-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const num = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const DURATION_S = Math.min(num('duration', 10), 120);
const CONNECTIONS = Math.min(num('connections', 64), 1024);
const TOP = num('top', 40);
const BURST = Math.min(num('burst', 0), 2048);
const FLOOR = args.includes('--floor');
const STREAM = args.includes('--stream') || BURST > 0;
const KEEP = args.includes('--keep');
const PROFILE = !args.includes('--no-profile');
const TSX = args.includes('--tsx');
const GATEWAY_SRC = args.includes('--gateway-src') ? args[args.indexOf('--gateway-src') + 1] : undefined;
const CORE_SRC = args.includes('--core-src') ? args[args.indexOf('--core-src') + 1] : undefined;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function startProc(argv: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`timeout starting ${argv.join(' ')}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({ child, line });
      }
    });
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited with ${code}`)));
  });
}


/**
 * Module start lines of a bundle esbuild wrote (its `// ../../packages/x/src/y.ts` comments), so a frame in
 * the bundle can be named by the source file it came from.
 */
const bundleModules = new Map<string, Array<{ line: number; file: string }>>();
function moduleOfBundleLine(path: string, line: number): string | undefined {
  let mods = bundleModules.get(path);
  if (!mods) {
    mods = [];
    try {
      const lines = readFileSync(path, 'utf8').split('\n');
      for (let i = 0; i < lines.length; i++) {
        const m = /^\/\/ (\S+\.[cm]?[jt]sx?)$/.exec(lines[i]!);
        if (m) mods.push({ line: i, file: m[1]! });
      }
    } catch {
      // not readable: keep the bundle's own name
    }
    bundleModules.set(path, mods);
  }
  let lo = 0;
  let hi = mods.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (mods[mid]!.line <= line) {
      found = mods[mid]!.file;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** A short, readable place for a frame: package name or repo-relative file. */
function where(url: string, line = 0): string {
  if (url === '') return '(native)';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.includes('/.cache/llmrr-bench/')) {
    const mod = moduleOfBundleLine(path, line);
    if (mod) return where(mod.replace(/^(\.\.\/)+/, '/'), 0);
  }
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (path.startsWith('node:')) return path;
  const repo = path.indexOf('/packages/');
  return repo >= 0 ? path.slice(repo + 1) : path.replace(/^.*\/tools\//, 'tools/');
}

function summarize(profile: CpuProfile): void {
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byPlace = new Map<string, number>();
  for (const n of profile.nodes) {
    const t = self.get(n.id) ?? 0;
    if (t === 0) continue;
    const place = where(n.callFrame.url, n.callFrame.lineNumber);
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${place}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + t);
    byPlace.set(place, (byPlace.get(place) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  console.log(`\nself time, top ${TOP} functions (of ${(total / 1e6).toFixed(2)} s sampled):`);
  for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${pct(t)}  ${k}`);
  console.log('\nself time by package / file:');
  for (const [k, t] of [...byPlace].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${pct(t)}  ${k}`);
}

type Autocannon = (o: Record<string, unknown>) => Promise<{ requests: { average: number }; non2xx: number; errors: number; '2xx': number }>;
const peers = join(here, 'gateway-peers', 'node_modules', 'autocannon', 'autocannon.js');
const autocannon = ((await import(pathToFileURL(peers).href)) as { default: Autocannon }).default;

/** User and system CPU ms of a process, from /proc (clock ticks of 10 ms). */
function cpuSplit(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 };
}

/** Established TCP connections to `port` on 127.0.0.1 (all processes: only the proxy talks to the upstream here). */
function connectionsTo(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return f[2]?.endsWith(hex) && f[3] === '01';
    }).length;
}

/** The steady load: autocannon for `--duration` s. */
async function load(opts: Record<string, unknown>, pid: number): Promise<void> {
  const cpu0 = cpuMs(pid);
  const r = await autocannon({ ...opts, connections: CONNECTIONS, duration: DURATION_S });
  const cpu = cpuMs(pid) - cpu0;
  const ok = r['2xx'];
  console.log(
    `${STREAM ? 'streams' : 'requests'} at c=${CONNECTIONS} for ${DURATION_S} s: ${r.requests.average.toFixed(0)}/s, failed ${r.non2xx + r.errors}, ` +
      `gateway CPU ${(cpu / ok).toFixed(3)} ms per request, RSS ${rssMb(pid).toFixed(0)} MB`,
  );
}

/** `--burst N`: bursts of N concurrent streams, each burst from a fresh agent, for `--duration` s. */
async function bursts(url: string, headers: Record<string, string>, pid: number, upstreamPort: number): Promise<void> {
  const model = FLOOR ? 'bench-model' : 'bench';
  const cpu0 = cpuSplit(pid);
  const io0 = syscallCounts(pid);
  const end = Date.now() + DURATION_S * 1000;
  let streams = 0;
  let ok = 0;
  let count = 0;
  const ttfb: number[] = [];
  const started = Date.now();
  while (Date.now() < end) {
    const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
    try {
      const many = await Promise.all(Array.from({ length: BURST }, () => streamOnce(url, headers, model, agent)));
      streams += many.length;
      ok += many.filter((m) => m.ok).length;
      const v = many.map((m) => m.ttfbMs).filter(Number.isFinite).sort((a, b) => a - b);
      // A burst in which every stream failed has no TTFB.
      if (v.length > 0) ttfb.push(v[Math.floor(v.length / 2)]!);
      count++;
    } finally {
      agent.destroy();
    }
  }
  const cpu = cpuSplit(pid);
  const io = syscallCounts(pid);
  const [user, sys] = [(cpu.user - cpu0.user) / streams, (cpu.sys - cpu0.sys) / streams];
  console.log(
    `${FLOOR ? 'floor proxy' : 'gateway'}: ${count} bursts of ${BURST} streams (${ok} ok), TTFB p50 per burst ${ttfb.map((t) => t.toFixed(0)).join(' ')} ms, ` +
      `CPU ${(user + sys).toFixed(3)} ms per stream (user ${user.toFixed(3)}, system ${sys.toFixed(3)}), ` +
      `${((io.reads - io0.reads) / streams).toFixed(1)} reads and ${((io.writes - io0.writes) / streams).toFixed(1)} writes (system calls) per stream, ` +
      `${connectionsTo(upstreamPort)} connections to the upstream, RSS ${rssMb(pid).toFixed(0)} MB, ${Date.now() - started} ms in all`,
  );
}

async function main(): Promise<void> {
  const profDir = mkdtempSync(join(tmpdir(), 'llmrr-prof-'));
  const cond = '--conditions=@llmrr/source';
  const execArgv = process.execArgv.includes(cond) ? process.execArgv : [...process.execArgv, cond];
  const up = await startProc([...execArgv, join(here, 'gateway-bench-upstream.ts')], {}, /^PORT \d+/);
  let gw: { child: ChildProcess; line: string } | undefined;
  try {
    const upstreamUrl = `http://127.0.0.1:${/PORT (\d+)/.exec(up.line)![1]}`;
    const prof = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
    const entry = FLOOR ? [await bundleForNode('gateway-bench-floor.ts')] : TSX ? [...execArgv, join(here, 'gateway-bench-llmrr.ts')] : [await bundleForNode('gateway-bench-llmrr.ts', {
          ...(GATEWAY_SRC && CORE_SRC
            ? { packagesSrc: { core: resolve(CORE_SRC), gateway: resolve(GATEWAY_SRC) }, name: 'gateway-bench-other.mjs' }
            : GATEWAY_SRC
              ? { gatewaySrc: GATEWAY_SRC, name: 'gateway-bench-other.mjs' }
              : {}),
        })];
    gw = await startProc([...prof, ...(FLOOR ? [] : GATEWAY_NODE_FLAGS), ...entry], FLOOR ? { UPSTREAM_URL: upstreamUrl } : { ...GATEWAY_NODE_ENV, UPSTREAM_URL: upstreamUrl }, FLOOR ? /^PORT \d+/ : /^PORT \d+ KEY /);
    const [, port, key = 'none'] = /PORT (\d+)(?: KEY (\S+))?/.exec(gw.line)!;
    const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say sixteen words.' }], max_tokens: 32, ...(STREAM ? { stream: true, stream_options: { include_usage: true } } : {}) });
    const opts = { url: `http://127.0.0.1:${port}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body };
    await autocannon({ ...opts, connections: CONNECTIONS, duration: 2 });
    if (BURST) await bursts(`http://127.0.0.1:${port}`, { authorization: `Bearer ${key}` }, gw.child.pid!, Number(/PORT (\d+)/.exec(up.line)![1]));
    else await load(opts, gw.child.pid!);
    if (!PROFILE) return;
    const exited = new Promise((resolve) => gw!.child.once('exit', resolve));
    gw.child.kill('SIGTERM');
    await exited;
    // Main thread only (tsx's loader runs on a worker thread, which writes a profile of its own).
    const file = readdirSync(profDir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
    if (!file) throw new Error(`no profile written in ${profDir}`);
    summarize(JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile);
    if (KEEP) console.log(`\nprofile: ${join(profDir, file)}`);
  } finally {
    if (gw && gw.child.exitCode === null) {
      const exited = new Promise((resolve) => gw!.child.once('exit', resolve));
      gw.child.kill('SIGTERM');
      await exited;
    }
    up.child.kill('SIGTERM');
    if (!KEEP) rmSync(profDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
