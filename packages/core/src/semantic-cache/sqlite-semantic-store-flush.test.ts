// The SQLite store's timed flush of pending hits: busy_timeout 0 while it runs and restored, one timer, hits after close, a logger that throws.
import BetterSqlite3 from 'better-sqlite3';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SQLITE_HIT_FLUSH_MS, SQLITE_HITS_PER_WRITE, SqliteSemanticStore } from './sqlite-semantic-store.js';
import { readSqlite, semanticRow } from './sqlite-semantic-store.test-helpers.js';

const row = (i: number) => semanticRow(i);
const query = readSqlite;

/** Opens a store through the importer seam with a real better-sqlite3 connection we can also read (its busy_timeout). */
async function openSpied(path: string, options: { maxEntries: number; warn?: (m: string) => void; now?: () => number }) {
  const opened: BetterSqlite3.Database[] = [];
  const importer = async () => ({
    default: function Spied(this: unknown, file: string, o?: BetterSqlite3.Options) {
      const db = new BetterSqlite3(file, o);
      opened.push(db);
      return db;
    },
  });
  const store = await SqliteSemanticStore.open(path, { ...options, importer });
  expect(opened).toHaveLength(1);
  return { store, db: opened[0]! };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'llmrr-semantic-flush-'));
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteSemanticStore flush of pending hits', () => {
  it('the busy timeout is restored to the number it was (5000) after failed and successful flushes, by the setImmediate and the timer paths', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const path = join(dir, 'restore.db');
    const warn = vi.fn();
    const { store, db } = await openSpied(path, { maxEntries: 1_000, warn });
    const busy = () => db.pragma('busy_timeout', { simple: true });
    expect(busy()).toBe(5000);
    const ids = await store.addMany(Array.from({ length: SQLITE_HITS_PER_WRITE + 1 }, (_, i) => row(i)));
    const holder = new BetterSqlite3(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      for (const id of ids.slice(0, SQLITE_HITS_PER_WRITE)) await store.touch(id);
      await new Promise((r) => setImmediate(r)); // the setImmediate flush: fails at once
      expect(warn).toHaveBeenCalledTimes(1);
      expect(busy()).toBe(5000);
      vi.advanceTimersByTime(SQLITE_HIT_FLUSH_MS); // the timer flush: fails again
      expect(busy()).toBe(5000);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(vi.getTimerCount()).toBe(1); // re-armed, one timer
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    vi.advanceTimersByTime(SQLITE_HIT_FLUSH_MS); // succeeds now
    const written = query<{ n: number }>(path, `SELECT count(*) AS n FROM llmrr_semantic_cache WHERE last_used > ${ids.length}`)[0]!.n;
    expect(written).toBe(SQLITE_HITS_PER_WRITE);
    expect(busy()).toBe(5000);
    expect(vi.getTimerCount()).toBe(0);
    await store.close();
  });

  it('after a failed timer flush an insert still waits for a lock another thread holds (released 1 s later) and succeeds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const path = join(dir, 'insert-waits.db');
    const warn = vi.fn();
    const store = await SqliteSemanticStore.open(path, { maxEntries: 1_000, warn });
    const ids = await store.addMany([row(1), row(2)]);
    const holder = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
      const db = new (require(workerData.module))(workerData.path);
      db.exec('BEGIN IMMEDIATE');
      parentPort.postMessage('locked');
      parentPort.once('message', () => setTimeout(() => { db.exec('ROLLBACK'); db.close(); parentPort.postMessage('released'); }, 1_000));`,
      { eval: true, workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), path } },
    );
    try {
      await once(holder, 'message'); // (the worker's timers are its own, real ones)
      await store.touch(ids[0]!); // a hit on a quiet cache: the 30 s timer
      vi.advanceTimersByTime(SQLITE_HIT_FLUSH_MS); // the timer's flush: fails at once (locked)
      expect(warn).toHaveBeenCalledTimes(1);
      holder.postMessage('release in 1 s');
      await store.add(row(3)); // must wait for the busy timeout (5 s), not fail at once
      expect(query<{ n: number }>(path, 'SELECT count(*) AS n FROM llmrr_semantic_cache')[0]!.n).toBe(3);
    } finally {
      await holder.terminate();
      await store.close();
    }
  }, 15_000);

  it('many hits keep one timer; close stops it; the timer never runs on a closed store', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const path = join(dir, 'one-timer.db');
    const { store, db } = await openSpied(path, { maxEntries: 1_000 });
    const ids = await store.addMany(Array.from({ length: 100 }, (_, i) => row(i)));
    for (let k = 0; k < 5; k++) for (const id of ids) await store.touch(id);
    expect(vi.getTimerCount()).toBe(1);
    await store.close();
    expect(db.open).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await store.touch(ids[0]!);
    expect(vi.getTimerCount()).toBe(0);
    expect(() => vi.advanceTimersByTime(10 * SQLITE_HIT_FLUSH_MS)).not.toThrow();
  });

  it('the timer stops once no hit is pending: the hit entry deleted, the store cleared, or the hit written with an insert', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const path = join(dir, 'idle.db');
    const store = await SqliteSemanticStore.open(path, { maxEntries: 3 });
    const ids = await store.addMany([row(1), row(2), row(3)]);
    await store.touch(ids[0]!);
    expect(vi.getTimerCount()).toBe(1);
    await store.delete(ids[0]!);
    expect(vi.getTimerCount()).toBe(0);
    await store.touch(ids[1]!);
    expect(vi.getTimerCount()).toBe(1);
    await store.clear();
    expect(vi.getTimerCount()).toBe(0);
    const [a] = await store.addMany([row(4), row(5)]);
    await store.touch(a!);
    expect(vi.getTimerCount()).toBe(1);
    await store.add(row(6));
    expect(vi.getTimerCount()).toBe(0);
    await store.close();
  });

  it('a warn logger that throws does not escape the timer callback (it would be an uncaught exception: the server process dies)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const path = join(dir, 'warn-throws.db');
    const warn = vi.fn(() => {
      throw new Error('log sink closed');
    });
    const store = await SqliteSemanticStore.open(path, { maxEntries: 1_000, warn });
    const ids = await store.addMany([row(1), row(2)]);
    await store.touch(ids[0]!); // one hit on a quiet cache: the 30 s timer is armed
    const holder = new BetterSqlite3(path);
    holder.exec('BEGIN IMMEDIATE'); // the flush fails (locked) and reports it through warn
    try {
      // With fake timers the callback runs inside advanceTimersByTime: what it throws surfaces here (with real
      // timers it is an uncaught exception from a timer, which ends a Node process without a handler).
      expect(() => vi.advanceTimersByTime(SQLITE_HIT_FLUSH_MS)).not.toThrow();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(vi.getTimerCount()).toBe(1); // the pending hit is retried later
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    await store.close();
  });
});
