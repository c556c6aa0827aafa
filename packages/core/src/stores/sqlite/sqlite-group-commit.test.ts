import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite, type SqliteHandle } from './sqlite-database.js';

describe('SqliteGroupCommit', () => {
  let dir: string;
  let handle: SqliteHandle;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmrr-group-'));
    handle = (await openSqlite(join(dir, 'g.db'))).retain();
    handle.db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  });
  afterEach(() => {
    handle.release();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (id: string, v: number) => () => handle.db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').run(id, v).changes;

  it('commits the writes queued in one turn in one transaction, each promise after the commit', async () => {
    const before = { ...handle.writes.stats };
    const { default: Database } = await import('better-sqlite3');
    const other = new Database(join(dir, 'g.db'));
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => handle.writes.run(insert(`r${i}`, i))));
      expect(results).toEqual(Array(20).fill(1));
      expect(handle.writes.stats.commits - before.commits).toBe(1);
      expect(handle.writes.stats.jobs - before.jobs).toBe(20);
      // Committed: another connection (as another process) sees every row once the promises resolved.
      expect(other.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 20 });
    } finally {
      other.close();
    }
  });

  it('a failing job gets its own error; the others of its batch still commit', async () => {
    await handle.writes.run(insert('dup', 1));
    const results = await Promise.allSettled([handle.writes.run(insert('a', 1)), handle.writes.run(insert('dup', 2)), handle.writes.run(insert('b', 2))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(handle.db.prepare('SELECT id FROM t ORDER BY id').pluck().all()).toEqual(['a', 'b', 'dup']);
  });

  it('runs onCommit hooks after the commit, and end-of-batch work inside the transaction', async () => {
    const seen: string[] = [];
    await Promise.all(
      ['x', 'y'].map((id) =>
        handle.writes.run(
          (scope) => {
            if (!scope.has('sum')) {
              scope.set('sum', 0);
              scope.atEnd(() => {
                handle.db.prepare('INSERT INTO t (id, v) VALUES (?, ?)').run('sum', scope.get('sum') as number);
              });
            }
            scope.set('sum', (scope.get('sum') as number) + 5);
            return insert(id, 5)();
          },
          () => seen.push(id),
        ),
      ),
    );
    expect(seen).toEqual(['x', 'y']);
    expect(handle.db.prepare("SELECT v FROM t WHERE id = 'sum'").pluck().get()).toBe(10);
  });

  it('flushes queued work when the database closes', async () => {
    const p = handle.writes.run(insert('late', 1));
    handle.release(); // last reference: flush, then close
    await expect(p).resolves.toBe(1);
    handle = (await openSqlite(join(dir, 'g.db'))).retain();
    expect(handle.db.prepare("SELECT v FROM t WHERE id = 'late'").pluck().get()).toBe(1);
  });
});
