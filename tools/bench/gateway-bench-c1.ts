/**
 * Added latency at concurrency 1, interleaved: one request to each target in turn (direct to the mock
 * upstream, the floor proxy, our gateway with state on, and with `--state-off` also our gateway without
 * stores), repeated for `--duration` seconds, so drift of a shared machine falls on all alike. Each target
 * has its own keep-alive connection. Prints p50 / p90 / p99 per target, the added latency over direct,
 * and the CPU time per request of each target's process at this (idle-between-requests) pace.
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-c1.ts [--duration 20] [--state-off] [--stream]
 *     [--gateway-flags "--no-memory-reducer"]   (our gateway once more, with these node flags)
 *
 * `--stream` times the first byte of a streamed answer instead of the whole JSON answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { bundleForNode } from './gateway-bench-bundle.js';
import { cpuMs } from './proc-stats.js';

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
function start(file: string, env: Record<string, string>, ready: RegExp, nodeFlags: string[] = []): Promise<{ line: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) resolve({ line, pid: child.pid! });
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${out}`)));
  });
}

function once(t: Target): Promise<number> {
  return new Promise((resolve) => {
    const payload = JSON.stringify({ model: t.model, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 32, ...(STREAM ? { stream: true, stream_options: { include_usage: true } } : {}) });
    const started = process.hrtime.bigint();
    const u = new URL(`${t.url}/v1/chat/completions`);
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: t.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...t.headers } },
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
  const gwFile = await bundleForNode('gateway-bench-llmrr.ts');
  const agent = () => new Agent({ keepAlive: true, maxSockets: 1 });
  const targets: Target[] = [{ name: 'direct', url: upstreamUrl, headers: {}, model: 'bench-model', agent: agent(), times: [], pid: up.pid }];
  const floor = await start(await bundleForNode('gateway-bench-floor.ts'), { UPSTREAM_URL: upstreamUrl }, /^PORT \d+/);
  targets.push({ name: 'floor (bare proxy)', url: `http://127.0.0.1:${/PORT (\d+)/.exec(floor.line)![1]}`, headers: {}, model: 'bench-model', agent: agent(), times: [], pid: floor.pid });
  const gw = async (name: string, env: Record<string, string>, nodeFlags: string[] = []) => {
    const p = await start(gwFile, { UPSTREAM_URL: upstreamUrl, ...env }, /^PORT \d+ KEY /, nodeFlags);
    const [, port, key] = /PORT (\d+) KEY (\S+)/.exec(p.line)!;
    targets.push({ name, url: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${key}` }, model: 'bench', agent: agent(), times: [], pid: p.pid });
  };
  await gw('@llmrr/gateway', {});
  if (args.includes('--state-off')) await gw('@llmrr/gateway, stores off', { BENCH_STATE: 'off' });
  // `--gateway-flags "--a --b"`: our gateway once more, run by node with these flags.
  const flags = opt('gateway-flags');
  if (flags) await gw(`@llmrr/gateway, ${flags}`, {}, flags.split(/\s+/).filter(Boolean));
  for (let i = 0; i < 30; i++) for (const t of targets) await once(t);
  const cpu0 = targets.map((t) => cpuMs(t.pid));
  const end = Date.now() + DURATION_S * 1000;
  let round = 0;
  while (Date.now() < end) {
    // Rotate the order each round so no target always follows another.
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(k + round) % targets.length]!;
      t.times.push(await once(t));
    }
    round++;
  }
  const cpu = targets.map((t, i) => (cpuMs(t.pid) - cpu0[i]!) / Math.max(1, t.times.length));
  const d = targets[0]!;
  console.log(`${STREAM ? 'time to first byte (stream)' : 'JSON answer'}, concurrency 1, ${round} rounds interleaved`);
  for (const [i, t] of targets.entries()) {
    const [p50, p90, p99] = [pct(t.times, 50), pct(t.times, 90), pct(t.times, 99)];
    const added = t === d ? '' : `   added p50 +${(p50 - pct(d.times, 50)).toFixed(2)}  p99 +${(p99 - pct(d.times, 99)).toFixed(2)}`;
    console.log(`${t.name.padEnd(32)} p50 ${p50.toFixed(2)}  p90 ${p90.toFixed(2)}  p99 ${p99.toFixed(2)} ms${added}  CPU ${cpu[i]!.toFixed(2)} ms/req (${i === 0 ? 'upstream' : 'this'} process)  (failed ${t.times.filter((x) => !Number.isFinite(x)).length})`);
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
  });
