import BetterSqlite3 from 'better-sqlite3';
import { makeUsage } from '../spec/index.js';
import type { SemanticEntry } from './semantic-store.js';

/** Entry `i` of the SQLite store's tests: its own question, a 4-dimensional vector, a one-token answer, live 10 min. */
export const semanticRow = (i: number, namespace = 'ns'): SemanticEntry => ({
  namespace,
  tenant: 'acme',
  prompt: `question ${i}`,
  vector: Float32Array.from({ length: 4 }, (_, k) => ((i * 7 + k) % 5) / 5 + 0.01),
  answer: { text: `answer ${i}`, toolCalls: [], finishReason: 'stop', usage: makeUsage(1, 1), deployment: 'm', model: 'm', provider: 'p', createdAt: 0 },
  expiresAt: Date.now() + 600_000,
});

/** The rows `sql` reads from the SQLite file at `path`, on a read-only connection of its own. */
export const readSqlite = <T>(path: string, sql: string): T[] => {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
};
