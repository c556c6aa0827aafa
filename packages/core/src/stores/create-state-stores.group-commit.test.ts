/**
 * `sharesGroupCommit`: true only for the ledger and budget store one `createStateStores` call made in `memory` or
 * `embedded` mode (one SQLite database, one group commit), so the gateway issues a prefetch's settlement and row
 * together only when they do commit in one transaction, not whenever `stores.mode` says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetStore } from '../tenancy/types.js';
import { createStateStores, sharesGroupCommit } from './create-state-stores.js';
import type { StateStores } from './types.js';

const opened: StateStores[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('sharesGroupCommit', () => {
  it("is true for a memory or embedded set's own ledger and budget store, also through a spread of the set", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-group-commit-'));
    dirs.push(dir);
    const memory = await createStateStores({ mode: 'memory' });
    const embedded = await createStateStores({ mode: 'embedded', dataDir: dir });
    opened.push(memory, embedded);
    expect(sharesGroupCommit(memory.ledger, memory.budgets)).toBe(true);
    expect(sharesGroupCommit(embedded.ledger, embedded.budgets)).toBe(true);
    const spread = { ...memory };
    expect(sharesGroupCommit(spread.ledger, spread.budgets)).toBe(true);
  });

  it('is false for another budget store over them (same mode), or two sets crossed', async () => {
    const a = await createStateStores({ mode: 'memory' });
    const b = await createStateStores({ mode: 'memory' });
    opened.push(a, b);
    const custom: BudgetStore = {
      reserve: (r) => a.budgets.reserve(r),
      settle: (id, usd) => a.budgets.settle(id, usd),
      release: (id) => a.budgets.release(id),
      spent: (t, p) => a.budgets.spent(t, p),
      close: async () => undefined,
    };
    const withCustom = { ...a, budgets: custom };
    expect(withCustom.mode).toBe('memory');
    expect(sharesGroupCommit(withCustom.ledger, withCustom.budgets)).toBe(false);
    expect(sharesGroupCommit(a.ledger, b.budgets)).toBe(false);
    expect(sharesGroupCommit(b.ledger, a.budgets)).toBe(false);
  });
});
