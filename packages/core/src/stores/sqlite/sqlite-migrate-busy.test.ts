import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from './sqlite-database.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';

describe('openSqlite while another process upgrades the same file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('waits past its busy timeout for the other upgrade and finds the file upgraded, instead of failing SQLITE_BUSY', async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmrr-migrate-busy-'));
    const path = join(dir, 'state.db');
    const last = SQLITE_MIGRATIONS.length;
    // A file at an earlier schema version: the steps from the spend index on (the spend rows' write time, the usage
    // rows' time index, ...) not yet applied.
    const from = SQLITE_MIGRATIONS.findIndex((step) => step.includes('llmrr_budget_spend_period'));
    (await openSqlite(path)).retain().release();
    const setup = new Database(path);
    setup.exec('DROP INDEX llmrr_budget_spend_period');
    setup.exec('ALTER TABLE llmrr_budget_spend DROP COLUMN written_at');
    setup.exec('DROP INDEX llmrr_usage_time');
    setup.pragma(`user_version = ${from}`);
    setup.close();

    // The other process's upgrade: it holds the write lock while it builds the index (here for 300 ms, longer than
    // the 20 ms busy timeout given to the opener, as a large table's build is longer than the default 5 s).
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    for (const step of SQLITE_MIGRATIONS.slice(from)) other.exec(step);
    other.pragma(`user_version = ${last}`);
    const committed = new Promise<void>((resolve) =>
      setTimeout(() => {
        other.exec('COMMIT');
        resolve();
      }, 300),
    );
    try {
      const handle = (await openSqlite(path, { busyTimeoutMs: 20 })).retain();
      try {
        expect(handle.db.pragma('user_version', { simple: true })).toBe(last);
        expect(handle.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'llmrr_budget_spend_period'`).pluck().get()).toBe('llmrr_budget_spend_period');
      } finally {
        handle.release();
      }
    } finally {
      await committed;
      other.close();
    }
  });
});
