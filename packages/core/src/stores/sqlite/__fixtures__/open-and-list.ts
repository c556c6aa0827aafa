/**
 * A process that opens an embedded state file as the gateway does (`openSqlite`: the schema upgrade included), for the
 * upgrade tests, run with tsx:
 *   open-and-list.ts <path>
 * prints "ready" once loaded, waits for a line on stdin (so that several processes open the file at once), opens the
 * file, lists the 5 newest usage rows of every tenant through the ledger, and prints
 * {"version": <user_version>, "ids": [...], "plan": [<the listing's query plan>]}.
 */
import type { SqliteDatabase } from '../sqlite-database.js';
import { openSqlite } from '../sqlite-database.js';
import { SqliteUsageLedger } from '../sqlite-usage-ledger.js';

const [path = ''] = process.argv.slice(2);
process.stdout.write('ready\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
const handle = await openSqlite(path);
const db: SqliteDatabase = handle.db;
const listings: string[] = [];
const prepare = db.prepare.bind(db);
db.prepare = ((sql: string) => {
  if (sql.startsWith('SELECT * FROM llmrr_usage') && sql.includes('ORDER BY')) listings.push(sql);
  return prepare(sql);
}) as typeof db.prepare;
const ledger = new SqliteUsageLedger(handle);
const ids = (await ledger.query({ limit: 5 })).map((e) => e.requestId);
const plan = (prepare(`EXPLAIN QUERY PLAN ${listings[0]}`).all(5, 0) as Array<{ detail: string }>).map((r) => r.detail);
const version = db.pragma('user_version', { simple: true });
await ledger.close();
process.stdout.write(`${JSON.stringify({ version, ids, plan })}\n`);
