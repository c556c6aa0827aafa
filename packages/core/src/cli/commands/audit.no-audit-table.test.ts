/**
 * `llmrr audit verify` on an embedded database that holds no audit log (README-sections/cli.md: "It never creates or
 * upgrades tables: a missing database, or a schema without an audit table, is an error (exit 2), never an empty
 * "valid" chain."): the file is opened read-only, and one that is not the gateway's is refused naming --data-dir.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EMBEDDED_DB_FILE, createStateStores } from '../../stores/create-state-stores.js';
import { SQLITE_MIGRATIONS } from '../../stores/sqlite/sqlite-schema.js';
import { runCli, tempDir } from '../__fixtures__/cli-harness.js';

async function tablesOf(file: string): Promise<string[]> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map((x) => x.name);
  } finally {
    db.close();
  }
}

describe('llmrr audit verify (embedded) on a database without an audit table', () => {
  it('an empty file: an error (exit 2) naming --data-dir, and the file is left without tables', async () => {
    const t = tempDir();
    try {
      // An llmrr.db that is not the gateway's (an empty SQLite file: e.g. a wrong --data-dir, or a file touched
      // by a deploy script): it has no llmrr_audit table.
      const file = join(t.dir, EMBEDDED_DB_FILE);
      writeFileSync(file, '');
      const r = await runCli(['audit', 'verify', '--data-dir', t.dir]);
      expect({ code: r.code, stdout: r.stdout, tables: await tablesOf(file) }).toEqual({ code: 2, stdout: '', tables: [] });
      expect(r.stderr).toContain('llmrr_audit');
      expect(r.stderr).toContain('--data-dir');
    } finally {
      t.remove();
    }
  });

  it("another program's SQLite database (tables, but not llmrr's): exit 2, nothing added", async () => {
    const t = tempDir();
    try {
      const file = join(t.dir, EMBEDDED_DB_FILE);
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(file);
      db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
      db.close();
      const r = await runCli(['audit', 'verify', '--data-dir', t.dir]);
      expect({ code: r.code, stdout: r.stdout, tables: await tablesOf(file) }).toEqual({ code: 2, stdout: '', tables: ['notes'] });
    } finally {
      t.remove();
    }
  });

  it('a file that is not SQLite at all: exit 2, not an internal error', async () => {
    const t = tempDir();
    try {
      writeFileSync(join(t.dir, EMBEDDED_DB_FILE), 'this is a text file, not a database\n'.repeat(200));
      const r = await runCli(['audit', 'verify', '--data-dir', t.dir]);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
      expect(r.stderr).toContain('not a SQLite database');
    } finally {
      t.remove();
    }
  });

  it('a schema version newer than this build knows is refused, not read (nor downgraded)', async () => {
    const t = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: t.dir });
      await stores.close();
      const file = join(t.dir, EMBEDDED_DB_FILE);
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(file);
      db.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
      db.close();
      const r = await runCli(['audit', 'verify', '--data-dir', t.dir]);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
      expect(r.stderr).toContain(`schema version ${SQLITE_MIGRATIONS.length + 1}`);
    } finally {
      t.remove();
    }
  });

  it("the gateway's own database, closed (no -wal/-shm files left): verified read-only (exit 0)", async () => {
    const t = tempDir();
    try {
      const stores = await createStateStores({ mode: 'embedded', dataDir: t.dir });
      await stores.audit!.append({ actor: 'admin', action: 'tenant.create', target: 't1' });
      await stores.close();
      const r = await runCli(['audit', 'verify', '--data-dir', t.dir]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('audit chain OK: 1 entry');
    } finally {
      t.remove();
    }
  });
});
