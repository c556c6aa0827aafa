/**
 * Added latency at concurrency 1, interleaved: one request to each target in turn (direct to the mock
 * upstream, the floor proxy, our gateway with state on, and with `--state-off` also our gateway without
 * stores), repeated for `--duration` seconds, so drift of a shared machine falls on all alike. Each target
 * has its own keep-alive connection. Prints p50 / p90 / p99 per target, the added latency over direct,
 * and the CPU time per request of each target's process at this (idle-between-requests) pace.
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-c1.ts [--duration 20] [--state-off] [--stream]
 *     [--warm 3000] [--gateway-flags "--no-memory-reducer"] [--gateway-env "K=V"] [--base-core DIR --base-gateway DIR]
 *     [--gc] [--threads]
 *
 * `--stream` times the first byte of a streamed answer instead of the whole JSON answer.
 * `--warm N` first sends N requests to each target at concurrency 16. Without it every process is measured
 * after 30 requests, while V8 still runs most of the request path unoptimized (it tiers code up by how often
 * it ran, not by time): in alternating runs on this VM, warming halved the CPU per request and the added
 * latency of the floor and of our gateway alike (docs/benchmarks.md "Concurrency 1: where the time goes").
 * Warmed is what a serving process sees. Warming goes in slices of 200 per target, in turn.
 * Our gateway (every build of it, not the floor or the upstream) runs with the server's node flags,
 * `GATEWAY_NODE_FLAGS` from '@llmrr/gateway/node' (`--max-semi-space-size=8 --v8-pool-size=2`), as the server's start script runs it.
 * `--gateway-flags` / `--gateway-env`: our gateway once more, run with these node flags (after
 * `GATEWAY_NODE_FLAGS`, so they can override them) and/or environment variables
 * (e.g. `--gateway-env "LLMRR_HEAP_GROWING_PERCENT=0"`), interleaved with the others.
 * `--base-core DIR --base-gateway DIR`: our gateway also built from these copies of packages/core/src and
 * packages/gateway/src (placed under each package's node_modules/.cache), to compare a change interleaved.
 * `--gc` runs every process with `--trace-gc` and prints its scavenges, mark-compacts and pause time per
 * request while measuring; `--threads` prints each process's CPU per request by thread (user/system; the
 * split is sampled by the kernel's 4 ms tick, the total is exact).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { resolve } from 'node:path';
import { GATEWAY_NODE_ENV, GATEWAY_NODE_FLAGS } from '@llmrr/gateway/node';
import { bundleForNode } from './gateway-bench-bundle.js';
import { cpuMs } from './proc-stats.js';

/** CPU ms (user, system) per thread of a process, keyed by `tid name`, from /proc (clock ticks of 10 ms). */
function threadCpu(pid: number): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${tid} ${name}`, [Number(f[11]) * 10, Number(f[12]) * 10]);
    } catch {
      // the thread ended
    }
  }
  return out;
}

const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const opt = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const DURATION_S = Math.min(Number(opt('duration') ?? 20) || 20, 300);
const STREAM = args.includes('--stream');

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  model: string;
  agent: Agent;
  times: number[];
  /** The process serving this target (its CPU time per request is printed). */
  pid: number;
}

const children: ChildProcess[] = [];
/** This run's own bundles (named by pid, so parallel runs do not overwrite each other's), removed at the end. */
const bundles: string[] = [];
/** `--gc`: every process runs with `--trace-gc`; its collections while measuring are counted here, by pid. */
const GC = args.includes('--gc');
const gcs = new Map<number, { scavenges: number; markCompacts: number; ms: number }>();
let measuring = false;
function start(file: string, env: Record<string, string>, ready: RegExp, nodeFlags: string[] = []): Promise<{ line: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(GC ? ['--trace-gc'] : []), ...nodeFlags, file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const gc = { scavenges: 0, markCompacts: 0, ms: 0 };
    gcs.set(child.pid!, gc);
    let out = '';
    let ready_ = false;
    // After the ready line: stdout split into whole lines; `partial` holds the unfinished last one (a chunk
    // boundary may fall inside a --trace-gc line).
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      if (ready_) {
        const lines = (partial + d.toString()).split('\n');
        partial = lines.pop()!;
        if (!measuring) return;
        // e.g. "[123:0x...]   812 ms: Mark-Compact (reduce) 9.1 (12.3) -> 8.2 (11.0) MB, 3.21 / 0.00 ms  (...) memory reducer"
        for (const l of lines) {
          const m = /ms: (Scavenge|Mark-Compact|Mark-sweep)[^,]*, ([\d.]+) \/ [\d.]+ ms/.exec(l);
          if (!m) continue;
          if (m[1] === 'Scavenge') gc.scavenges++;
          else gc.markCompacts++;
          gc.ms += Number(m[2]);
        }
        return;
      }
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) {
        ready_ = true;
        partial = out.slice(out.lastIndexOf('\n') + 1);
        resolve({ line, pid: child.pid! });
      }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${out}`)));
  });
}

function once(t: Target, agent: Agent = t.agent): Promise<number> {
  return new Promise((resolve) => {
    const payload = JSON.stringify({ model: t.model, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 32, ...(STREAM ? { stream: true, stream_options: { include_usage: true } } : {}) });
    const started = process.hrtime.bigint();
    const u = new URL(`${t.url}/v1/chat/completions`);
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...t.headers } },
      (res) => {
        let first = NaN;
        res.on('data', () => {
          if (Number.isNaN(first)) first = Number(process.hrtime.bigint() - started) / 1e6;
        });
        res.on('end', () => resolve(res.statusCode === 200 ? (STREAM ? first : Number(process.hrtime.bigint() - started) / 1e6) : NaN));
        res.on('error', () => resolve(NaN));
      },
    );
    req.on('error', () => resolve(NaN));
    req.end(payload);
  });
}

const pct = (v: number[], p: number) => {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function main(): Promise<void> {
  const up = await start(await bundleForNode('gateway-bench-upstream.ts'), {}, /^PORT \d+/);
  const upstreamUrl = `http://127.0.0.1:${/PORT (\d+)/.exec(up.line)![1]}`;
  const gwFile = await bundleForNode('gateway-bench-llmrr.ts', { name: `gateway-bench-c1-${process.pid}.mjs` });
  bundles.push(gwFile);
  const agent = () => new Agent({ keepAlive: true, maxSockets: 1 });
  const targets: Target[] = [{ name: 'direct', url: upstreamUrl, headers: {}, model: 'bench-model', agent: agent(), times: [], pid: up.pid }];
  const floor = await start(await bundleForNode('gateway-bench-floor.ts'), { UPSTREAM_URL: upstreamUrl }, /^PORT \d+/);
  targets.push({ name: 'floor (bare proxy)', url: `http://127.0.0.1:${/PORT (\d+)/.exec(floor.line)![1]}`, headers: {}, model: 'bench-model', agent: agent(), times: [], pid: floor.pid });
  const gw = async (name: string, env: Record<string, string>, nodeFlags: string[] = []) => {
    const p = await start(gwFile, { ...GATEWAY_NODE_ENV, UPSTREAM_URL: upstreamUrl, ...env }, /^PORT \d+ KEY /, [...GATEWAY_NODE_FLAGS, ...nodeFlags]);
    const [, port, key] = /PORT (\d+) KEY (\S+)/.exec(p.line)!;
    targets.push({ name, url: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${key}` }, model: 'bench', agent: agent(), times: [], pid: p.pid });
  };
  await gw('@llmrr/gateway', {});
  if (args.includes('--state-off')) await gw('@llmrr/gateway, stores off', { BENCH_STATE: 'off' });
  // `--gateway-flags "--a --b"`: our gateway once more, run by node with these flags (after GATEWAY_NODE_FLAGS).
  // `--gateway-env "K=V K2=V2"`: the same, with these environment variables (both may be given together).
  const flags = opt('gateway-flags');
  const envText = opt('gateway-env');
  const extraEnv = Object.fromEntries((envText ?? '').split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  // `--base-core DIR --base-gateway DIR`: our gateway built from other copies of packages/core/src and
  // packages/gateway/src (each under its package's node_modules/.cache, as gateway-bench-inproc.ts takes them).
  const baseCore = opt('base-core');
  const baseGateway = opt('base-gateway');
  if (baseCore && baseGateway) {
    const baseFile = await bundleForNode('gateway-bench-llmrr.ts', { packagesSrc: { core: resolve(baseCore), gateway: resolve(baseGateway) }, name: `gateway-bench-c1-base-${process.pid}.mjs` });
    bundles.push(baseFile);
    const p = await start(baseFile, { ...GATEWAY_NODE_ENV, UPSTREAM_URL: upstreamUrl }, /^PORT \d+ KEY /, [...GATEWAY_NODE_FLAGS]);
    const [, port, key] = /PORT (\d+) KEY (\S+)/.exec(p.line)!;
    targets.push({ name: '@llmrr/gateway, base sources', url: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${key}` }, model: 'bench', agent: agent(), times: [], pid: p.pid });
  }
  if (flags || envText) await gw(`@llmrr/gateway, ${[flags, envText].filter(Boolean).join(' ')}`, extraEnv, (flags ?? '').split(/\s+/).filter(Boolean));
  // `--warm N`: N requests to each target at concurrency 16 first, so the measured code runs optimized
  // as in a process that has served load (at one request at a time, V8 tiers up far fewer functions).
  // In slices of 200 per target, in turn: warmed one after the other, the first one warmed waited idle
  // while the others warmed, and came out slower in every run.
  const WARM = Math.min(Number(opt('warm') ?? 0) || 0, 100_000);
  const bursts = targets.map(() => new Agent({ keepAlive: true, maxSockets: 16 }));
  for (let done = 0; done < WARM; done += 200) {
    for (const [i, t] of targets.entries()) {
      let left = Math.min(200, WARM - done);
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (left-- > 0) await once(t, bursts[i]);
      }));
    }
  }
  for (const b of bursts) b.destroy();
  for (let i = 0; i < 30; i++) for (const t of targets) await once(t);
  const cpu0 = targets.map((t) => cpuMs(t.pid));
  const threads0 = targets.map((t) => threadCpu(t.pid));
  measuring = true;
  const end = Date.now() + DURATION_S * 1000;
  let round = 0;
  while (Date.now() < end) {
    // A new random order each round: with a fixed rotation each target always follows the same one, and
    // which process ran just before (and warmed or evicted the shared caches) shifted the results by ~0.1 ms.
    const order = targets.map((t) => ({ t, k: Math.random() })).sort((a, b) => a.k - b.k);
    for (const { t } of order) t.times.push(await once(t));
    round++;
  }
  const cpu = targets.map((t, i) => (cpuMs(t.pid) - cpu0[i]!) / Math.max(1, t.times.length));
  measuring = false;
  const d = targets[0]!;
  console.log(`${STREAM ? 'time to first byte (stream)' : 'JSON answer'}, concurrency 1, ${round} rounds interleaved`);
  for (const [i, t] of targets.entries()) {
    const [p50, p90, p99] = [pct(t.times, 50), pct(t.times, 90), pct(t.times, 99)];
    const added = t === d ? '' : `   added p50 +${(p50 - pct(d.times, 50)).toFixed(2)}  p99 +${(p99 - pct(d.times, 99)).toFixed(2)}`;
    console.log(`${t.name.padEnd(32)} p50 ${p50.toFixed(2)}  p90 ${p90.toFixed(2)}  p99 ${p99.toFixed(2)} ms${added}  CPU ${cpu[i]!.toFixed(2)} ms/req (${i === 0 ? 'upstream' : 'this'} process)  (failed ${t.times.filter((x) => !Number.isFinite(x)).length})`);
  }
  if (GC) {
    for (const t of targets) {
      const g = gcs.get(t.pid)!;
      const per100 = (n: number) => ((100 * n) / Math.max(1, t.times.length)).toFixed(1);
      console.log(`  GC ${t.name}: per 100 requests ${per100(g.scavenges)} scavenges, ${per100(g.markCompacts)} mark-compacts; pauses ${(g.ms / Math.max(1, t.times.length)).toFixed(3)} ms/req`);
    }
  }
  if (args.includes('--threads')) {
    // Where each process's CPU goes: per thread, user / system ms per request (threads with any CPU).
    for (const [i, t] of targets.entries()) {
      const n = Math.max(1, t.times.length);
      const rows = [...threadCpu(t.pid)].map(([k, [u, s]]) => {
        const [u0, s0] = threads0[i]!.get(k) ?? [0, 0];
        return `${k} ${((u - u0) / n).toFixed(2)}u/${((s - s0) / n).toFixed(2)}s`;
      });
      console.log(`  ${t.name}: ${rows.filter((r) => !/ 0\.00u\/0\.00s$/.test(r)).join(', ')}`);
    }
  }
  for (const t of targets) t.agent.destroy();
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    for (const f of bundles) rmSync(f, { force: true });
  });
