import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditLog } from '../../audit/types.js';
import { verifyAuditChain } from '../../audit/verify-audit-chain.js';
import { EMBEDDED_DB_FILE } from '../../stores/create-state-stores.js';
import { PostgresAuditLog } from '../../stores/postgres/postgres-audit-log.js';
import { openPostgres } from '../../stores/postgres/postgres-database.js';
import { SqliteAuditLog } from '../../stores/sqlite/sqlite-audit-log.js';
import { openSqlite } from '../../stores/sqlite/sqlite-database.js';
import { defineCommand, expectSubcommand, type CliCommand } from '../cli-command.js';
import { EXIT, type CliContext } from '../cli-io.js';
import { CliUsageError } from '../cli-usage-error.js';
import { GLOBAL_FLAGS } from '../parse-flags.js';

const FLAGS = {
  ...GLOBAL_FLAGS,
  state: { type: 'string' },
  'data-dir': { type: 'string' },
  'postgres-url': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const HELP = `Usage: llmrr audit verify [options]

Walks the hash-chained audit log from its first entry and checks every link. Exit 0 when the chain is
intact, 1 when an entry was edited, deleted or reordered (the line names the first broken entry).
The store is found the way the gateway server finds it (same environment variables).

Options:
      --state <mode>         embedded (SQLite file) or shared (PostgreSQL); default LLMRR_STATE, else embedded
      --data-dir <dir>       embedded: directory of ${EMBEDDED_DB_FILE}; default LLMRR_DATA_DIR, else .data
      --postgres-url <url>   shared: PostgreSQL connection string; default LLMRR_POSTGRES_URL
      --json                 print the result as JSON
  -h, --help                 show this help
`;

/** `llmrr audit verify`: checks the audit log's hash chain. */
export const auditCommand: CliCommand = defineCommand({
  name: 'audit',
  summary: 'verify the hash chain of the audit log (audit verify)',
  help: HELP,
  flags: FLAGS,
  async run({ values, positionals }, ctx) {
    expectSubcommand(positionals, 'verify');
    if (values.config !== undefined) throw new CliUsageError('audit verify reads no router config; use --state, --data-dir or --postgres-url', '--config');

    const log = await openAuditLog(ctx, { state: values.state, dataDir: values['data-dir'], postgresUrl: values['postgres-url'] });
    try {
      const report = await verifyAuditChain(log);
      if (values.json) {
        const { exitCode: _exit, ...rest } = report;
        ctx.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
      } else {
        (report.ok ? ctx.stdout : ctx.stderr).write(`${report.message}\n`);
      }
      return report.exitCode;
    } finally {
      await log.close();
    }
  },
});

async function openAuditLog(ctx: CliContext, flags: { state?: string | undefined; dataDir?: string | undefined; postgresUrl?: string | undefined }): Promise<AuditLog> {
  const env = (name: string) => ctx.env[name]?.trim() || undefined;
  const stateFlag = flags.state !== undefined ? '--state' : 'LLMRR_STATE';
  const state = flags.state ?? env('LLMRR_STATE') ?? 'embedded';
  if (state === 'embedded') {
    const dir = resolve(ctx.cwd, flags.dataDir ?? env('LLMRR_DATA_DIR') ?? '.data');
    const file = join(dir, EMBEDDED_DB_FILE);
    // Never create an empty database just to report an empty, "valid" chain.
    if (!existsSync(file)) {
      throw new CliUsageError(`no audit database at ${file} (set --data-dir or LLMRR_DATA_DIR to the gateway's data directory)`, '--data-dir');
    }
    const handle = await openSqlite(file);
    return new SqliteAuditLog(handle);
  }
  if (state === 'shared') {
    const url = flags.postgresUrl ?? env('LLMRR_POSTGRES_URL');
    if (url === undefined) throw new CliUsageError('shared state needs --postgres-url (or LLMRR_POSTGRES_URL)', '--postgres-url');
    return new PostgresAuditLog(await openPostgres(url));
  }
  if (state === 'memory') throw new CliUsageError(`${stateFlag} is "memory": an in-memory audit log lives only inside its server process`, stateFlag);
  throw new CliUsageError(`${stateFlag} must be embedded or shared, got "${state}"`, stateFlag);
}
