/**
 * Gateway benchmark: direct-to-mock vs our gateway vs @portkey-ai/gateway 1.15.2, in one run.
 *
 *   pnpm bench:gateway                                              (about 3 minutes)
 *   pnpm bench:gateway -- --duration 10 --streams 512 --soak 600 --write
 *                        (with the 10-minute soak; --write updates the "Gateway vs Portkey" section of
 *                         docs/benchmarks.md between its generated-table markers)
 *   ... -- --compare-src DIR    also measures another copy of packages/gateway/src (e.g. an older commit's,
 *                               with the global fetch), for a before/after table in the same run
 *   ... -- --compare-packages DIR [--compare-label L]   also measures another commit's core + gateway sources
 *                               (DIR/packages/{core,gateway}/src), bundled the same way
 *   ... -- --tsx                runs our gateway through tsx instead of the bundled JavaScript
 *   ... -- --warm S             seconds of warm-up load per target before its c=1 and streaming
 *                               measurements (default 3; 0 measures a process that has served ~20 requests)
 *   ... -- --no-floor           skips the floor (gateway-bench-floor.ts: a bare node:http -> undici proxy that
 *                               passes bytes through; what any Node proxy costs on this machine)
 *
 * Each server runs in its own process (so CPU time and RSS are its own): the mock upstream (OpenAI wire
 * format, fixed 20 ms delay; streams send 16 chunks 5 ms apart), our gateway with auth, limits, budget,
 * SQLite ledger and metrics on (bundled with esbuild and run on plain `node` with the server's node flags,
 * `GATEWAY_NODE_FLAGS`, as a deployed gateway runs without a TypeScript loader; see gateway-bench-bundle.ts), and Portkey (`--headless`, `x-portkey-provider: openai`,
 * `x-portkey-custom-host`). The load generator (autocannon) and the streaming client run in this process
 * and share the machine's cores with the servers: compare the ratios measured in one run, not the absolute
 * numbers across machines. Portkey and autocannon live in tools/bench/gateway-peers (plain npm, outside the
 * workspace, because Portkey needs `@hono/node-server` pinned to 1.13.5 through npm `overrides`); the first
 * run installs them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GATEWAY_NODE_ENV, GATEWAY_NODE_FLAGS } from '@llmrr/gateway/node';
import { bundleForNode } from './gateway-bench-bundle.js';
import { cpuMs, rssMb } from './proc-stats.js';
import { chatBody, streamOnce, type StreamTiming } from './stream-client.js';

const here = dirname(fileURLToPath(import.meta.url));
const peersDir = join(here, 'gateway-peers');
// `pnpm bench:gateway -- --x` passes the `--` on.
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const num = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : NaN;
  return Number.isFinite(v) && v >= 0 ? v : fallback;
};
const DURATION_S = num('duration', 10);
const STREAMS = num('streams', 512);
const SEQUENTIAL_STREAMS = num('sequential-streams', 100);
const SOAK_S = num('soak', 0);
// Seconds of warm-up load per target before its c=1 and streaming measurements (0: measure cold). V8 optimizes
// a function by how often it ran: measured after a handful of requests, c=1 is mostly interpreter time (about
// 2x the CPU and added latency of a warmed process, for the floor proxy as for us; docs/benchmarks.md,
// "Concurrency 1: where the time goes"). A gateway in service is warm.
const WARM_S = num('warm', 3);
const WRITE = args.includes('--write');
const SKIP_PORTKEY = args.includes('--skip-portkey');
// The floor (gateway-bench-floor.ts): a bare node:http -> undici pass-through proxy, no gateway features.
const FLOOR = !args.includes('--no-floor');
const TSX = args.includes('--tsx');
const COMPARE_SRC = args.includes('--compare-src') ? args[args.indexOf('--compare-src') + 1] : undefined;
// A directory holding another commit's packages/core/src and packages/gateway/src (`git archive <rev>
// packages/core/src packages/gateway/src | tar -x -C DIR`): measured as a second gateway, same fetch seam.
const COMPARE_PACKAGES = args.includes('--compare-packages') ? args[args.indexOf('--compare-packages') + 1] : undefined;
const COMPARE_LABEL = args.includes('--compare-label') ? args[args.indexOf('--compare-label') + 1] : 'compared packages';

// ---- processes ----------------------------------------------------------------------------------

interface Proc {
  child: ChildProcess;
  pid: number;
  line: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts a process and waits for a stdout line matching `ready`. */
function start(cmd: string, argv: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 60_000): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      // Not in `procs` yet, so nothing else would stop it.
      child.kill('SIGKILL');
      reject(new Error(`timeout starting ${argv.join(' ')}:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve({ child, pid: child.pid!, line });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} exited with ${code}:\n${out}`));
    });
  });
}

function tsNode(file: string): { cmd: string; argv: string[] } {
  const execArgv = [...process.execArgv];
  if (!execArgv.some((a) => a.includes('@llmrr/source'))) execArgv.push('--conditions=@llmrr/source');
  return { cmd: process.execPath, argv: [...execArgv, join(here, file)] };
}

function stop(p: Proc | undefined): void {
  if (p && p.child.exitCode === null) p.child.kill('SIGTERM');
}


// ---- load -----------------------------------------------------------------------------------------

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  model: string;
  /** The process whose CPU and memory count for this target. */
  pid: number;
}

type Autocannon = (opts: Record<string, unknown>) => Promise<{ latency: Record<string, number>; requests: { average: number; total: number }; non2xx: number; errors: number; '2xx': number }>;
let autocannon: Autocannon;


async function load(t: Target, connections: number, seconds: number) {
  const cpu0 = cpuMs(t.pid);
  const r = await autocannon({
    url: `${t.url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...t.headers },
    body: chatBody(t.model, false),
    connections,
    duration: seconds,
  });
  const cpu = cpuMs(t.pid) - cpu0;
  const ok = r['2xx'];
  return { p50: r.latency.p50!, p99: r.latency.p99!, rps: r.requests.average, ok, failed: r.non2xx + r.errors, cpuMsPerRequest: ok > 0 ? cpu / ok : NaN };
}


/** One non-streamed request, timed with hrtime from the first byte sent to the last byte received. */
function requestOnce(t: Target, agent: Agent, payload: string): Promise<{ ms: number; ok: boolean }> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const u = new URL(`${t.url}/v1/chat/completions`);
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...t.headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, ok: res.statusCode === 200 }));
        res.on('error', () => resolve({ ms: NaN, ok: false }));
      },
    );
    req.on('error', () => resolve({ ms: NaN, ok: false }));
    req.end(payload);
  });
}

/**
 * Latency at concurrency 1 with sub-millisecond resolution (autocannon reports whole milliseconds, too
 * coarse for a 1 ms target): one keep-alive connection, requests back to back for `seconds`.
 */
async function sequential(t: Target, seconds: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const payload = chatBody(t.model, false);
  const times: number[] = [];
  let failed = 0;
  try {
    for (let i = 0; i < 20; i++) await requestOnce(t, agent, payload); // warm-up
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      const r = await requestOnce(t, agent, payload);
      if (r.ok) times.push(r.ms);
      else failed++;
    }
    return { p50: pct(times, 50), p90: pct(times, 90), p99: pct(times, 99), ok: times.length, failed };
  } finally {
    agent.destroy();
  }
}


function pct(values: number[], p: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]!;
}

/** Warm-up: JSON calls at c=16 for `seconds`, then 8 rounds of 32 concurrent streams (not measured). */
async function warm(t: Target, seconds: number): Promise<void> {
  await load(t, 16, seconds);
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  try {
    for (let round = 0; round < 8; round++) await Promise.all(Array.from({ length: 32 }, () => streamOnce(t.url, t.headers, t.model, agent)));
  } finally {
    agent.destroy();
  }
}

async function streaming(t: Target) {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  try {
    const seq: StreamTiming[] = [];
    for (let i = 0; i < 5; i++) await streamOnce(t.url, t.headers, t.model, agent); // warm-up
    for (let i = 0; i < SEQUENTIAL_STREAMS; i++) seq.push(await streamOnce(t.url, t.headers, t.model, agent));
    const rss0 = rssMb(t.pid);
    const cpu0 = cpuMs(t.pid);
    const many = await Promise.all(Array.from({ length: STREAMS }, () => streamOnce(t.url, t.headers, t.model, agent)));
    const cpu = cpuMs(t.pid) - cpu0;
    return {
      ttfbP50: pct(seq.map((s) => s.ttfbMs), 50),
      ttfbP99: pct(seq.map((s) => s.ttfbMs), 99),
      manyOk: many.filter((s) => s.ok).length,
      manyTtfbP50: pct(many.map((s) => s.ttfbMs), 50),
      manyTtfbP99: pct(many.map((s) => s.ttfbMs), 99),
      manyTotalP50: pct(many.map((s) => s.totalMs), 50),
      /** CPU of the target process during the burst, per stream. */
      manyCpuMsPerStream: cpu / STREAMS,
      rssBefore: rss0,
      rssAfter: rssMb(t.pid),
    };
  } finally {
    agent.destroy();
  }
}

// ---- run ------------------------------------------------------------------------------------------

function ensurePeers(): void {
  if (existsSync(join(peersDir, 'node_modules', 'autocannon')) && existsSync(join(peersDir, 'node_modules', '@portkey-ai', 'gateway'))) return;
  console.log('installing the benchmark peers (Portkey 1.15.2, autocannon) with npm into tools/bench/gateway-peers ...');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: peersDir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm install in tools/bench/gateway-peers failed');
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main(): Promise<void> {
  ensurePeers();
  autocannon = ((await import(pathToFileURL(join(peersDir, 'node_modules', 'autocannon', 'autocannon.js')).href)) as { default: Autocannon }).default;

  const procs: Proc[] = [];
  try {
    // Plain node on bundled JavaScript (a deployed gateway runs without a TypeScript loader); --tsx runs
    // our gateway from its TypeScript sources through tsx instead.
    const node = async (file: string, options: { gatewaySrc?: string; packagesSrc?: { core: string; gateway: string }; name?: string } = {}) =>
      TSX ? tsNode(file) : { cmd: process.execPath, argv: [await bundleForNode(file, options)] };
    const up = await node('gateway-bench-upstream.ts');
    const upstream = await start(up.cmd, up.argv, {}, /^PORT \d+/);
    procs.push(upstream);
    const upstreamUrl = `http://127.0.0.1:${/PORT (\d+)/.exec(upstream.line)![1]}`;

    // Our gateway runs with the node flags and environment the server's start script passes (a 2x8 MB young
    // generation, 2 V8 threads, a fixed malloc threshold).
    const gatewayNode = async (options: Parameters<typeof node>[1] = {}) => {
      const n = await node('gateway-bench-llmrr.ts', options);
      return { cmd: n.cmd, argv: [...GATEWAY_NODE_FLAGS, ...n.argv] };
    };
    const gw = await gatewayNode();
    const ours = await start(gw.cmd, gw.argv, { ...GATEWAY_NODE_ENV, UPSTREAM_URL: upstreamUrl }, /^PORT \d+ KEY /);
    procs.push(ours);
    const [, ourPort, key] = /PORT (\d+) KEY (\S+)/.exec(ours.line)!;

    const targets: Target[] = [
      { name: 'direct (mock upstream)', url: upstreamUrl, headers: {}, model: 'bench-model', pid: upstream.pid },
      { name: '@llmrr/gateway', url: `http://127.0.0.1:${ourPort}`, headers: { authorization: `Bearer ${key}` }, model: 'bench', pid: ours.pid },
    ];
    if (COMPARE_SRC) {
      if (TSX) throw new Error('--compare-src needs the bundled run (drop --tsx)');
      const other = await gatewayNode({ gatewaySrc: COMPARE_SRC, name: 'gateway-bench-compare.mjs' });
      const before = await start(other.cmd, other.argv, { ...GATEWAY_NODE_ENV, UPSTREAM_URL: upstreamUrl, BENCH_FETCH: 'global' }, /^PORT \d+ KEY /);
      procs.push(before);
      const [, port, secret] = /PORT (\d+) KEY (\S+)/.exec(before.line)!;
      targets.push({ name: '@llmrr/gateway, compared source, global fetch', url: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${secret}` }, model: 'bench', pid: before.pid });
    }
    if (COMPARE_PACKAGES) {
      if (TSX) throw new Error('--compare-packages needs the bundled run (drop --tsx)');
      const packagesSrc = { core: join(COMPARE_PACKAGES, 'packages', 'core', 'src'), gateway: join(COMPARE_PACKAGES, 'packages', 'gateway', 'src') };
      const other = await gatewayNode({ packagesSrc, name: 'gateway-bench-compare-packages.mjs' });
      const before = await start(other.cmd, other.argv, { ...GATEWAY_NODE_ENV, UPSTREAM_URL: upstreamUrl }, /^PORT \d+ KEY /);
      procs.push(before);
      const [, port, secret] = /PORT (\d+) KEY (\S+)/.exec(before.line)!;
      targets.push({ name: `@llmrr/gateway, ${COMPARE_LABEL}`, url: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${secret}` }, model: 'bench', pid: before.pid });
    }
    if (FLOOR) {
      const fl = await node('gateway-bench-floor.ts', { name: 'gateway-bench-floor.mjs' });
      const floor = await start(fl.cmd, fl.argv, { UPSTREAM_URL: upstreamUrl }, /^PORT \d+/);
      procs.push(floor);
      const port = /PORT (\d+)/.exec(floor.line)![1];
      targets.push({ name: 'floor: bare Node pass-through proxy (not a gateway)', url: `http://127.0.0.1:${port}`, headers: {}, model: 'bench-model', pid: floor.pid });
    }
    if (!SKIP_PORTKEY) {
      const port = await freePort();
      const pk = await start(process.execPath, [join(peersDir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js'), '--headless', `--port=${port}`], {}, /Ready for connections|running at/);
      procs.push(pk);
      targets.push({
        name: '@portkey-ai/gateway 1.15.2',
        url: `http://127.0.0.1:${port}`,
        headers: { authorization: 'Bearer sk-bench', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upstreamUrl}/v1` },
        model: 'bench-model',
        pid: pk.pid,
      });
    }

    const rows: Array<Record<string, string>> = [];
    const raw: Record<string, unknown> = {};
    let direct: { lat: Awaited<ReturnType<typeof sequential>>; st: Awaited<ReturnType<typeof streaming>> } | undefined;
    for (const t of targets) {
      console.log(`\n== ${t.name}`);
      const rssIdle = rssMb(t.pid);
      if (WARM_S > 0) await warm(t, WARM_S);
      const lat = await sequential(t, DURATION_S);
      // (No CPU per request here: a process that idles between requests is charged for waking up, about
      // 0.4 ms per request for a bare node:http server with a 20 ms timer on this VM; c=64 measures CPU.)
      console.log(`  c=1: p50 ${f(lat.p50, 2)} ms, p90 ${f(lat.p90, 2)} ms, p99 ${f(lat.p99, 2)} ms (${lat.ok} requests)`);
      const tput = await load(t, 64, DURATION_S);
      console.log(`  c=64: ${f(tput.rps, 0)} req/s, ${f(tput.cpuMsPerRequest, 3)} CPU-ms/request (${t.name === targets[0]!.name ? 'upstream' : 'gateway'} process), failed ${tput.failed}`);
      const rssLoaded = rssMb(t.pid);
      const st = await streaming(t);
      console.log(
        `  streaming: ttfb p50 ${f(st.ttfbP50)} ms; ${STREAMS} concurrent: ${st.manyOk} ok, ttfb p50 ${f(st.manyTtfbP50)} ms, p99 ${f(st.manyTtfbP99)} ms, ` +
          `${f(st.manyCpuMsPerStream, 2)} CPU-ms/stream`,
      );
      raw[t.name] = { rssIdle, lat, tput, rssLoaded, st };
      if (!direct) direct = { lat, st };
      const d = direct;
      rows.push({
        target: t.name,
        'p50 / p99 ms (c=1)': `${f(lat.p50, 2)} / ${f(lat.p99, 2)}`,
        'added p50 / p99 ms': t === targets[0] ? '-' : `+${f(lat.p50 - d.lat.p50, 2)} / +${f(lat.p99 - d.lat.p99, 2)}`,
        'req/s (c=64)': f(tput.rps, 0),
        'CPU-ms / req': f(tput.cpuMsPerRequest, 3),
        'stream TTFB p50 ms (added)': t === targets[0] ? f(st.ttfbP50) : `${f(st.ttfbP50, 2)} (+${f(st.ttfbP50 - d.st.ttfbP50, 2)})`,
        [`${STREAMS} streams: ok, TTFB p50 ms (x direct)`]: `${st.manyOk}, ${f(st.manyTtfbP50)} (${f(st.manyTtfbP50 / d.st.manyTtfbP50, 2)}x)`,
        'CPU-ms / stream': f(st.manyCpuMsPerStream, 2),
        'RSS MB idle -> loaded -> after streams': `${f(rssIdle, 0)} -> ${f(rssLoaded, 0)} -> ${f(st.rssAfter, 0)}`,
      });
    }

    let soak: { samples: number[]; rps: number; failed: number; cpuMsPerRequest: number } | undefined;
    if (SOAK_S > 0) {
      const t = targets[1]!;
      console.log(`\n== soak: ${t.name}, c=64 for ${SOAK_S} s`);
      const samples = [rssMb(t.pid)];
      const timer = setInterval(() => {
        samples.push(rssMb(t.pid));
        console.log(`  ${(samples.length - 1) * 10} s: RSS ${f(samples.at(-1)!, 0)} MB`);
      }, 10_000);
      const r = await load(t, 64, SOAK_S);
      clearInterval(timer);
      samples.push(rssMb(t.pid));
      soak = { samples, rps: r.rps, failed: r.failed, cpuMsPerRequest: r.cpuMsPerRequest };
      console.log(`  RSS MB: start ${f(samples[0]!, 0)}, end ${f(samples.at(-1)!, 0)}, max ${f(Math.max(...samples), 0)}; ${f(r.rps, 0)} req/s, ${f(r.cpuMsPerRequest, 3)} CPU-ms/request, failed ${r.failed}`);
    }

    const headers = Object.keys(rows[0]!);
    const table = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${headers.map((h) => r[h]).join(' | ')} |`)].join('\n');
    const machine = `${osType()} ${release()}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    const command = `pnpm bench:gateway -- ${args.join(' ')}`.trim();
    // Defaults a reader of the command line would not see.
    const setup = `warm-up ${WARM_S} s per target; our gateway's node flags: ${GATEWAY_NODE_FLAGS.join(' ')}, environment: ${Object.entries(GATEWAY_NODE_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}`;
    console.log(`\n${table}\n\nmachine: ${machine}\ncommand: ${command}; ${setup}`);
    if (soak) console.log(`soak RSS samples (MB, every 10 s): ${soak.samples.map((s) => f(s, 0)).join(' ')}`);
    if (WRITE) writeResults({ table, machine, command, setup, soak, raw });
  } finally {
    for (const p of procs.reverse()) stop(p);
  }
}

const BEGIN = '<!-- gateway-bench:begin (written by tools/bench/gateway-bench.ts --write) -->';
const END = '<!-- gateway-bench:end -->';

/** Replaces the generated part of the "Gateway vs Portkey" section of docs/benchmarks.md. */
function writeResults(r: { table: string; machine: string; command: string; setup: string; soak: { samples: number[]; rps: number; failed: number; cpuMsPerRequest: number } | undefined; raw: unknown }): void {
  const out = join(here, '..', '..', 'docs', 'benchmarks.md');
  const doc = readFileSync(out, 'utf8');
  const from = doc.indexOf(BEGIN);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/benchmarks.md has no generated-table markers (${BEGIN} ... ${END})`);
  const s = r.soak;
  const soakText = s
    ? `Soak, our gateway at concurrency 64 for ${SOAK_S} s: ${f(s.rps, 0)} req/s, ${s.failed} failed, ${f(s.cpuMsPerRequest, 3)} CPU-ms/request; ` +
      `RSS every 60 s: ${s.samples.filter((_, i) => i % 6 === 0 || i === s.samples.length - 1).map((x) => f(x, 0)).join(', ')} MB ` +
      `(min ${f(Math.min(...s.samples), 0)}, max ${f(Math.max(...s.samples), 0)}; all samples, every 10 s, in the JSON below).`
    : 'No soak in this run (`--soak 600` runs the 10-minute one).';
  const generated =
    `${BEGIN}\nMeasured ${new Date().toISOString().slice(0, 10)} on ${r.machine}; command: \`${r.command}\`; ${r.setup}.\n\n${r.table}\n\n${soakText}\n\n` +
    `<details><summary>Raw numbers (JSON)</summary>\n\n\`\`\`json\n${JSON.stringify({ ...(r.raw as object), ...(s ? { soak: s } : {}) })}\n\`\`\`\n\n</details>\n`;
  writeFileSync(out, doc.slice(0, from) + generated + doc.slice(to));
  console.log(`wrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
