import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite, type SqliteHandle } from './sqlite-database.js';

describe('SqliteWalCheckpoints', () => {
  let dir: string;
  let handle: SqliteHandle;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmrr-wal-'));
    handle = (await openSqlite(join(dir, 'w.db'))).retain();
    handle.db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  });
  afterEach(() => {
    handle.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns off the automatic checkpoint of its connection, and checkpoints after a request ended, not inside a commit', async () => {
    expect(handle.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const checkpoints = handle.checkpoints!;
    const insert = handle.db.prepare('INSERT INTO t (v) VALUES (?)');
    let seenAtCommit = -1;
    for (let i = 0; i < 300 && checkpoints.stats.checkpoints === 0; i++) {
      // As the ledger does: a request's last write tells the checkpoints it ended.
      await handle.writes.run(() => insert.run('x'.repeat(2000)), () => checkpoints.requestEnded());
      // A commit's caller never finds the checkpoint done already: it runs later, off its path.
      if (seenAtCommit < 0 && checkpoints.stats.checkpoints > 0) seenAtCommit = i;
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(seenAtCommit).toBe(-1);
    expect(checkpoints.stats.checkpoints).toBe(1);
    expect(checkpoints.stats.pages).toBeGreaterThan(100);
    // Everything committed is still there for another connection (a checkpoint only moves pages).
    const { default: Database } = await import('better-sqlite3');
    const other = new Database(join(dir, 'w.db'));
    try {
      expect((other.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBeGreaterThanOrEqual(100);
      // The other connection keeps SQLite's own automatic checkpoint.
      expect(other.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    } finally {
      other.close();
    }
  });

  it('checkpoints without ledger writes too, after more commits', async () => {
    const checkpoints = handle.checkpoints!;
    const insert = handle.db.prepare('INSERT INTO t (v) VALUES (?)');
    let commits = 0;
    while (checkpoints.stats.checkpoints === 0 && commits < 1000) {
      await handle.writes.run(() => insert.run('y'));
      commits++;
      await new Promise((r) => setImmediate(r));
    }
    // No request ended: the checkpoint comes at 4x the first interval of 128 commits.
    expect(commits).toBe(512);
    expect(checkpoints.stats.checkpoints).toBe(1);
  });

  it('an in-memory database (no WAL) has none', async () => {
    const mem = await openSqlite(':memory:');
    try {
      expect(mem.checkpoints).toBeUndefined();
    } finally {
      mem.retain().release();
    }
  });
});
