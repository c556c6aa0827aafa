/**
 * A separate process for the multi-process tests, run with tsx:
 *   child-worker.ts reserve <configJson> <tenantId> <count> <limitUsd> <estimateUsd> <idPrefix>
 *     -> prints {"granted": n} after `count` concurrent reserve calls
 *   child-worker.ts audit-append <configJson> <count> <actor>
 *     -> appends `count` audit entries concurrently, prints {"seqs": [...]}
 *   child-worker.ts record-and-hang <configJson> <requestId>
 *     -> records one usage entry, prints "recorded", then waits to be killed
 *   child-worker.ts reserve-settle-and-hang <configJson> <tenantId> <ttlMs>
 *     -> reserves $0.5 (open) and reserves + settles $0.3 with its ledger row (one group commit) against a
 *        $1 total budget, prints "reserved", then waits to be killed
 */
import { createStateStores } from '../create-state-stores.js';
import type { StateStoresConfig } from '../types.js';

const [cmd, configJson, ...rest] = process.argv.slice(2);
const config = JSON.parse(configJson ?? '{}') as StateStoresConfig;
const stores = await createStateStores(config);

if (cmd === 'reserve') {
  const [tenantId = 't', count = '0', limit = '0', estimate = '0', prefix = 'r'] = rest;
  const results = await Promise.all(
    Array.from({ length: Number(count) }, (_, i) =>
      stores.budgets.reserve({ tenantId, period: 'month', limitUsd: Number(limit), estimateUsd: Number(estimate), reservationId: `${prefix}-${i}` }),
    ),
  );
  process.stdout.write(`${JSON.stringify({ granted: results.filter((r) => r.ok).length })}\n`);
  await stores.close();
} else if (cmd === 'audit-append') {
  const [count = '0', actor = 'worker'] = rest;
  const entries = await Promise.all(Array.from({ length: Number(count) }, (_, i) => stores.audit.append({ actor, action: 'test.multi-process', details: { i } })));
  process.stdout.write(`${JSON.stringify({ seqs: entries.map((e) => e.seq) })}\n`);
  await stores.close();
} else if (cmd === 'record-and-hang') {
  const [requestId = 'req'] = rest;
  await stores.ledger.record({ requestId, tenantId: 'durable', model: 'm', inputTokens: 10, outputTokens: 20, costUsd: 0.5, latencyMs: 12, status: 'success' });
  process.stdout.write('recorded\n');
  // Hold the database open until the parent kills us (bounded, in case it never does).
  setTimeout(() => process.exit(3), 60_000);
} else if (cmd === 'reserve-settle-and-hang') {
  const [tenantId = 't', ttl = '60000'] = rest;
  const reserve = (id: string, estimateUsd: number) => stores.budgets.reserve({ tenantId, period: 'total', limitUsd: 1, estimateUsd, reservationId: id, ttlMs: Number(ttl) });
  if (!(await reserve('open', 0.5)).ok || !(await reserve('done', 0.3)).ok) throw new Error('reserve refused');
  // As the gateway's settler does: the ledger row and the settlement issued together.
  await Promise.all([
    stores.ledger.record({ requestId: 'done', tenantId, model: 'm', inputTokens: 1, outputTokens: 1, costUsd: 0.3, latencyMs: 1, status: 'success' }),
    stores.budgets.settle('done', 0.3),
  ]);
  process.stdout.write('reserved\n');
  setTimeout(() => process.exit(3), 60_000);
} else {
  process.stderr.write(`unknown command ${cmd}\n`);
  process.exit(2);
}
