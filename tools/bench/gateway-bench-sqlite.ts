/**
 * What the embedded (SQLite) state costs the gateway per request, and what group commit would save:
 *
 *   pnpm --filter @llmrr/tools-bench exec tsx --conditions=@llmrr/source gateway-bench-sqlite.ts [--requests 5000]
 *
 * Part 1 runs the real stores (`createStateStores({ mode: 'embedded' })`, WAL, synchronous=NORMAL) through
 * the calls one gateway request makes: authenticate, rate-limit acquire/release, budget reserve, ledger
 * record, budget settle. Part 2 writes the same ledger rows on the same database file with better-sqlite3
 * directly (the statement of SqliteUsageLedger): one autocommit per row (today) against one transaction per
 * batch of rows, which is what a group-committing ledger would do with the rows of requests that finish
 * together (each request still waits for its own commit before its final bytes). CPU time of this process.
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

    console.log(`\nPart 1: the embedded stores, in the order of one request (${N} requests, 64 in flight)`);
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

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
