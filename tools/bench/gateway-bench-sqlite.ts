/**
 * What the embedded (SQLite) state costs the gateway per request:
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-sqlite.ts [--requests 5000]
 *
 * Part 1 runs the real stores (`createStateStores({ mode: 'embedded' })`, WAL, synchronous=NORMAL) through
 * the calls one gateway request makes, ONE CALL AT A TIME (each awaited before the next, so every write is
 * its own group-commit batch: the worst case, as on an idle gateway): authenticate, rate-limit
 * acquire/release, budget reserve, ledger record, budget settle.
 * Part 3 runs the same calls as the gateway does under load: 64 requests in flight, a simulated upstream
 * call between reserve and settle, the ledger record and the settlement issued together; writes that land
 * in the same event-loop turn share one commit. It reports the state's CPU per request (the loop with the
 * stores minus the same loop without them) and the commits per request.
 * Part 2 writes ledger rows on the same database file with better-sqlite3 directly: one autocommit per row
 * against one transaction per batch of rows. CPU time of this process.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_DB_FILE, createStateStores } from '@llmrr/core';

const args = process.argv.slice(2);
const i = args.indexOf('--requests');
const N = Math.min(Math.max(Number(i >= 0 ? args[i + 1] : 5000) || 5000, 100), 100_000);

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

async function timed(label: string, n: number, fn: (k: number) => unknown): Promise<number> {
  const t0 = cpuUs();
  for (let k = 0; k < n; k++) await fn(k);
  const us = (cpuUs() - t0) / n;
  console.log(`  ${label.padEnd(48)} ${(us / 1000).toFixed(4)} CPU-ms`);
  return us;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'llmrr-sqlite-bench-'));
  try {
    const stores = await createStateStores({ mode: 'embedded', dataDir: dir });
    const tenant = await stores.tenants.createTenant({
      id: 'bench',
      name: 'Bench',
      limits: { rpm: 1e9, tpm: 1e12, maxConcurrency: 1e6 },
      budget: { amountUsd: 1e9, period: 'total' },
    });
    const { secret, key } = await stores.tenants.createKey('bench', { name: 'bench' });
    const scopes = [{ kind: 'tenant' as const, id: tenant.id, limits: tenant.limits! }];
    const entry = (k: number, prefix: string) => ({
      requestId: `${prefix}-${k}`,
      tenantId: 'bench',
      keyId: key.id,
      model: 'bench',
      deployment: 'bench',
      provider: 'openai-compatible',
      endpoint: '/v1/chat/completions',
      inputTokens: 12,
      outputTokens: 16,
      cachedInputTokens: 0,
      costUsd: 0.0000114,
      latencyMs: 21,
      status: 'success' as const,
      cacheHit: false,
      stream: false,
      createdAt: Date.now(),
    });
    for (let k = 0; k < 500; k++) await stores.tenants.authenticate(secret); // warm-up

    console.log(`\nPart 1: the embedded stores, one call at a time in the order of one request (${N} requests, 64 reservations open)`);
    // Requests overlap in the gateway: keep 64 reservations open, as 64 concurrent requests would.
    const ops = ['tenants.authenticate', 'rateLimiter.acquire + release (memory)', 'budgets.reserve', 'ledger.record', 'budgets.settle'] as const;
    const spent = new Map<string, number>(ops.map((o) => [o, 0]));
    const step = async (op: (typeof ops)[number], fn: () => unknown) => {
      const t0 = cpuUs();
      await fn();
      spent.set(op, spent.get(op)! + cpuUs() - t0);
    };
    for (let k = 0; k < N + 64; k++) {
      if (k < N) {
        await step('tenants.authenticate', () => stores.tenants.authenticate(secret));
        await step('rateLimiter.acquire + release (memory)', async () => {
          const d = await stores.rateLimiter.acquire(scopes, { estimatedTokens: 40 });
          if (d.ok) await d.lease.release(28);
        });
        await step('budgets.reserve', () => stores.budgets.reserve({ tenantId: 'bench', period: 'total', limitUsd: 1e9, estimateUsd: 0.001, reservationId: `r-${k}` }));
      }
      const done = k - 64;
      if (done >= 0) {
        await step('ledger.record', () => stores.ledger.record(entry(done, 'a')));
        await step('budgets.settle', () => stores.budgets.settle(`r-${done}`, 0.0000114));
      }
    }
    let total = 0;
    for (const [op, us] of spent) {
      total += us / N;
      console.log(`  ${op.padEnd(48)} ${(us / N / 1000).toFixed(4)} CPU-ms`);
    }
    console.log(`  ${'all of them (one request)'.padEnd(48)} ${(total / 1000).toFixed(4)} CPU-ms`);
    await stores.close();

    await concurrentPart(dir, N);

    console.log(`\nPart 2: ledger rows on the same file, autocommit vs group commit (${N} rows each)`);
    const db = new Database(join(dir, EMBEDDED_DB_FILE));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const insert = db.prepare(`INSERT INTO llmrr_usage (request_id, tenant_id, key_id, model, deployment, provider, endpoint,
      input_tokens, output_tokens, cached_input_tokens, cost_nano, latency_ms, ttft_ms, status, error_code, cache_hit, stream, created_at)
      VALUES (@request_id, @tenant_id, @key_id, @model, @deployment, @provider, @endpoint, @input_tokens, @output_tokens,
      @cached_input_tokens, @cost_nano, @latency_ms, @ttft_ms, @status, @error_code, @cache_hit, @stream, @created_at)
      ON CONFLICT (request_id) DO NOTHING`);
    const row = (id: string) => ({
      request_id: id,
      tenant_id: 'bench',
      key_id: key.id,
      model: 'bench',
      deployment: 'bench',
      provider: 'openai-compatible',
      endpoint: '/v1/chat/completions',
      input_tokens: 12,
      output_tokens: 16,
      cached_input_tokens: 0,
      cost_nano: 11400,
      latency_ms: 21,
      ttft_ms: null,
      status: 'success',
      error_code: null,
      cache_hit: 0,
      stream: 0,
      created_at: Date.now(),
    });
    const one = await timed('1 row per commit (today)', N, (k) => insert.run(row(`b-${k}`)));
    for (const batch of [4, 16, 64]) {
      const many = db.transaction((ids: string[]) => {
        for (const id of ids) insert.run(row(id));
      });
      const t0 = cpuUs();
      for (let k = 0; k < N; k += batch) many(Array.from({ length: batch }, (_, j) => `c${batch}-${k + j}`));
      const us = (cpuUs() - t0) / N;
      console.log(`  ${`${batch} rows per commit`.padEnd(48)} ${(us / 1000).toFixed(4)} CPU-ms per row (${((100 * us) / one).toFixed(0)}%)`);
    }
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Part 3: 64 requests in flight as in the gateway: authenticate, rate limit, reserve, a simulated upstream
 * call (a timer of 20-25 ms), then the ledger record and the budget settlement issued together (as the
 * gateway's settler does) and the lease released. Writes that land in the same event-loop turn share one
 * commit. The same loop without stores is run first; the difference is the state's CPU per request.
 */
async function concurrentPart(dir: string, n: number): Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const run = async (stores: Awaited<ReturnType<typeof createStateStores>> | undefined, secret: string, keyId: string) => {
    let next = 0;
    const worker = async () => {
      for (;;) {
        const k = next++;
        if (k >= n) return;
        let lease: { release(t?: number): Promise<void> } | undefined;
        if (stores) {
          const auth = await stores.tenants.authenticate(secret);
          if (!auth.ok) throw new Error('authentication failed');
          const d = await stores.rateLimiter.acquire([{ kind: 'tenant', id: 'bench2', limits: auth.tenant.limits! }], { estimatedTokens: 40 });
          if (!d.ok) throw new Error('rate limited');
          lease = d.lease;
          const r = await stores.budgets.reserve({ tenantId: 'bench2', period: 'total', limitUsd: 1e9, estimateUsd: 0.001, reservationId: `p3-${k}` });
          if (!r.ok) throw new Error('budget refused');
        }
        await sleep(20 + ((k * 7919) % 50) / 10);
        if (stores) {
          await Promise.all([
            stores.ledger.record({ requestId: `p3-${k}`, tenantId: 'bench2', keyId, model: 'bench', deployment: 'bench', provider: 'openai-compatible', endpoint: '/v1/chat/completions', inputTokens: 12, outputTokens: 16, costUsd: 0.0000114, latencyMs: 21, status: 'success' }),
            stores.budgets.settle(`p3-${k}`, 0.0000114).then(() => lease?.release(28)),
          ]);
        }
      }
    };
    const t0 = cpuUs();
    await Promise.all(Array.from({ length: 64 }, worker));
    return cpuUs() - t0;
  };
  const stores = await createStateStores({ mode: 'embedded', dataDir: dir });
  const tenant = await stores.tenants.createTenant({ id: 'bench2', name: 'Bench 2', limits: { rpm: 1e9, tpm: 1e12, maxConcurrency: 1e6 }, budget: { amountUsd: 1e9, period: 'total' } });
  const { secret, key } = await stores.tenants.createKey(tenant.id, { name: 'bench2' });
  const bare = await run(undefined, secret, key.id);
  // Reaches into the SQLite stores for the group-commit counters (a benchmark, not an API).
  const writes = (stores.ledger as unknown as { handle: { writes: { stats: { commits: number; jobs: number } } } }).handle.writes.stats;
  const before = { ...writes };
  const full = await run(stores, secret, key.id);
  const commits = writes.commits - before.commits;
  const jobs = writes.jobs - before.jobs;
  await stores.close();
  console.log(`\nPart 3: ${n} requests, 64 in flight, simulated 20-25 ms upstream (writes of one event-loop turn share a commit)`);
  console.log(`  ${'loop without stores'.padEnd(48)} ${(bare / n / 1000).toFixed(4)} CPU-ms`);
  console.log(`  ${'loop with the embedded stores'.padEnd(48)} ${(full / n / 1000).toFixed(4)} CPU-ms`);
  console.log(`  ${'state per request (difference)'.padEnd(48)} ${((full - bare) / n / 1000).toFixed(4)} CPU-ms`);
  console.log(`  ${'commits per request, writes per commit'.padEnd(48)} ${(commits / n).toFixed(3)}, ${(jobs / Math.max(1, commits)).toFixed(1)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
