/**
 * The gateway server app (apps/gateway-server) as its own scripts start it, `start` (TypeScript through tsx)
 * and `serve` (built JavaScript: run `pnpm nx build @llmrr/gateway-server` first), behind the mock upstream
 * with one `openai-compatible` deployment, embedded SQLite state in a temporary data dir and the demo tenant
 * (no key; limits and budget set high so nothing is refused). For each: RSS idle, then c=64 JSON for
 * `--duration` seconds (after 2 s of warm-up), RSS median / max sampled every 250 ms, and CPU-ms per request.
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-server-rss.ts \
 *     [--duration 12] [--rounds 1] [--scripts start,serve]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleForNode } from './gateway-bench-bundle.js';
import { cpuMs, rssMb } from './proc-stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const appDir = join(here, '..', '..', 'apps', 'gateway-server');
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const opt = (name: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const DURATION_S = Math.min(Number(opt('duration') ?? 12) || 12, 600);
const ROUNDS = Math.min(Number(opt('rounds') ?? 1) || 1, 10);
const SCRIPTS = (opt('scripts') ?? 'start,serve').split(',');

type Autocannon = (opts: Record<string, unknown>) => Promise<{ '2xx': number; non2xx: number; errors: number }>;

function start(argv: string[], env: Record<string, string>, ready: RegExp, cwd?: string): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    // Not ready within 60 s: kill it (the 'exit' handler then rejects).
    const timer = setTimeout(() => {
      err += '\n(not ready within 60 s: killed)';
      child.kill('SIGKILL');
    }, 60_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} exited with ${code ?? signal}:\n${out}\n${err}`));
    });
  });
}

/** SIGTERM, then SIGKILL if the child has not exited 15 s later. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function measure(autocannon: Autocannon, script: string, upstreamUrl: string): Promise<string> {
  // (`exec node ...`: the script's shell hands its process to node, so signals reach it.)
  const words = (JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts[script]?.split(/\s+/).filter((w, i) => i > 0 || w !== 'exec');
  if (!words || words[0] !== 'node') throw new Error(`apps/gateway-server has no "node ..." script named ${script}`);
  const dir = mkdtempSync(join(tmpdir(), 'llmrr-server-rss-'));
  let child: ChildProcess | undefined;
  try {
    const high = { rpm: 100_000_000, tpm: 2_000_000_000, maxConcurrency: 100_000 };
    const config = {
      version: 3,
      models: [{ name: 'bench', engine: 'openai-compatible', baseURL: `${upstreamUrl}/v1`, apiKey: 'sk-bench', model: 'bench-model', price: { input: 0.15, output: 0.6 } }],
      routing: { strategy: 'priority' },
      tenants: [{ id: 'demo', limits: high, budget: { amountUsd: 1_000_000_000, period: 'total' } }],
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const env = { PORT: '0', INIT_CWD: dir, LLMRR_CONFIG: join(dir, 'config.json'), LLMRR_DATA_DIR: join(dir, 'data') };
    const started = await start(words.slice(1), env, /listening on (\S+)/, appDir);
    child = started.child;
    const match = started.match;
    const pid = child.pid!;
    await new Promise((r) => setTimeout(r, 1500));
    const idle = rssMb(pid);
    const body = JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Say sixteen words.' }], max_tokens: 32 });
    const opts = { url: `${match[1]}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: 64 };
    await autocannon({ ...opts, duration: 2 });
    const samples: number[] = [];
    const timer = setInterval(() => samples.push(rssMb(pid)), 250);
    const cpu0 = cpuMs(pid);
    let r: Awaited<ReturnType<typeof autocannon>>;
    try {
      r = await autocannon({ ...opts, duration: DURATION_S });
    } finally {
      clearInterval(timer);
    }
    const cpu = cpuMs(pid) - cpu0;
    const failed = r.non2xx + r.errors;
    return `| ${script} (\`${words.join(' ')}\`) | ${idle.toFixed(0)} | ${median(samples).toFixed(0)} / ${Math.max(...samples).toFixed(0)} | ${(cpu / r['2xx']).toFixed(3)} | ${r['2xx']}${failed ? ` (${failed} failed)` : ''} |`;
  } finally {
    if (child) await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const autocannon = ((await import(pathToFileURL(join(here, 'gateway-peers', 'node_modules', 'autocannon', 'autocannon.js')).href)) as { default: Autocannon }).default;
  const up = await start([await bundleForNode('gateway-bench-upstream.ts')], {}, /PORT (\d+)/);
  const rows: string[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const script of SCRIPTS) {
        const row = await measure(autocannon, script, `http://127.0.0.1:${up.match[1]}`);
        console.log(row);
        rows.push(row);
      }
    }
  } finally {
    await stop(up.child);
  }
  console.log(`\nc=64 JSON for ${DURATION_S} s after 2 s of warm-up; RSS sampled every 250 ms:\n\n| script | RSS idle MB | RSS under load MB (median / max) | CPU-ms / req | requests |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
