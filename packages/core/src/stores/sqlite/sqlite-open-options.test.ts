import { describe, expect, it } from 'vitest';
import { openSqlite, SQLITE_DEFAULT_CACHE_KIB } from './sqlite-database.js';

describe('openSqlite page cache', () => {
  it("uses SQLite's own 2 MB default, not better-sqlite3's 16 MB build default", async () => {
    const handle = await openSqlite(':memory:');
    try {
      expect(handle.db.pragma('cache_size', { simple: true })).toBe(-SQLITE_DEFAULT_CACHE_KIB);
    } finally {
      handle.release();
    }
  });

  it('takes another size in KiB', async () => {
    const handle = await openSqlite(':memory:', { cacheKib: 8192 });
    try {
      expect(handle.db.pragma('cache_size', { simple: true })).toBe(-8192);
    } finally {
      handle.release();
    }
  });

  it('refuses a size that is not a whole number of at least 64 KiB', async () => {
    await expect(openSqlite(':memory:', { cacheKib: 1.5 })).rejects.toThrow(/cacheKib: .* got 1\.5/);
    await expect(openSqlite(':memory:', { cacheKib: 0 })).rejects.toMatchObject({ code: 'config_invalid' });
  });
});
