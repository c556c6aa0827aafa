import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LLMError } from '../../errors/llm-error.js';
import { sharedFixture, sharedSkipReason, type StoreFixture } from '../__fixtures__/store-fixtures.js';
import { postgresError, refusedValueError } from './postgres-database.js';

/**
 * PostgreSQL refuses some values SQLite stores or compares: a NUL character in text or jsonb (22021,
 * 22P05) and a number past BIGINT's range (22003). The shared stores answer those as `invalid_request` (a
 * 400 through the gateway), not as a raw driver error (`internal`, a 500). (Found in review.)
 */
describe('refusedValueError', () => {
  it('maps the value refusals to invalid_request and leaves other errors alone', () => {
    for (const code of ['22021', '22P05', '22003']) {
      const e = refusedValueError(Object.assign(new Error(`refused (${code})`), { code }));
      expect(LLMError.isInstance(e) && e.code).toBe('invalid_request');
    }
    const other = Object.assign(new Error('duplicate'), { code: '23505' });
    expect(refusedValueError(other)).toBe(other);
    expect(refusedValueError(undefined)).toBe(undefined);
  });
});

/**
 * A database that cannot be reached, or that did not answer within a bound of ours, is `store_unavailable` (a
 * retryable 503), as a Redis that is down is; found by a hunt: they reached the client as a 500 `internal`.
 */
describe('postgresError', () => {
  const codeOf = (e: unknown) => {
    const mapped = postgresError(e);
    return LLMError.isInstance(mapped) ? mapped.code : 'unchanged';
  };
  it('maps connection failures, ended sessions and our timeouts to store_unavailable', () => {
    const server = (code: string, severity = 'ERROR') => Object.assign(new Error(`server ${code}`), { code, severity });
    for (const code of ['08006', '08001', '57P01', '57P02', '57P03', '53300', '55P03', '57014']) expect(codeOf(server(code)), code).toBe('store_unavailable');
    // A FATAL error ends the session whatever its code (a database not accepting connections: 55000).
    expect(codeOf(server('55000', 'FATAL'))).toBe('store_unavailable');
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT']) expect(codeOf(Object.assign(new Error(`connect ${code}`), { code }))).toBe('store_unavailable');
    for (const message of ['Connection terminated unexpectedly', 'Connection terminated due to connection timeout', 'timeout exceeded when trying to connect']) {
      expect(codeOf(new Error(message)), message).toBe('store_unavailable');
    }
  });
  // 57014 and 55P03 were worded "PostgreSQL is unavailable", sending an operator to look for an outage.
  it('words a statement the server cancelled (statement_timeout 57014, lock_timeout 55P03, a cancel request 57014) in the server\'s words, the server up', () => {
    const mapped = postgresError(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014', severity: 'ERROR' }), 300);
    expect(mapped).toMatchObject({ code: 'store_unavailable', message: "PostgreSQL cancelled a statement, the server is up: canceling statement due to statement timeout (the statement's bound: 300 ms)" });
    const lock = postgresError(Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03', severity: 'ERROR' }));
    expect(lock).toMatchObject({ code: 'store_unavailable', message: 'PostgreSQL cancelled a statement, the server is up: canceling statement due to lock timeout' });
    const lockBound = postgresError(Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03', severity: 'ERROR' }), 300);
    expect((lockBound as Error).message).toBe("PostgreSQL cancelled a statement, the server is up: canceling statement due to lock timeout (the statement's bound: 300 ms)");
    // A cancel request (pg_cancel_backend), or a reason in another language: no bound of ours named (it was not one).
    const request = postgresError(Object.assign(new Error('canceling statement due to user request'), { code: '57014', severity: 'ERROR' }), 300);
    expect((request as Error).message).toBe('PostgreSQL cancelled a statement, the server is up: canceling statement due to user request');
    const localized = postgresError(Object.assign(new Error('Anweisung wird abgebrochen wegen Zeitueberschreitung'), { code: '57014', severity: 'ERROR' }), 300);
    expect((localized as Error).message).not.toContain('bound');
  });
  it('leaves other errors as they are, and refused values as invalid_request', () => {
    expect(codeOf(Object.assign(new Error('duplicate'), { code: '23505', severity: 'ERROR' }))).toBe('unchanged');
    expect(codeOf(Object.assign(new Error('not in prerequisite state'), { code: '55000', severity: 'ERROR' }))).toBe('unchanged');
    expect(codeOf(new TypeError('Connection terminated'))).toBe('unchanged');
    expect(codeOf(new Error('some bug'))).toBe('unchanged');
    expect(codeOf(Object.assign(new Error('nul'), { code: '22021' }))).toBe('invalid_request');
  });
});

const skip = sharedSkipReason();
describe.skipIf(skip !== undefined)(skip ?? 'shared (PostgreSQL) stores and values PostgreSQL refuses', () => {
  let fx: StoreFixture;
  beforeEach(async () => {
    fx = await sharedFixture();
  });
  afterEach(async () => {
    await fx.close();
  });

  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'resolved';
    } catch (e) {
      return LLMError.isInstance(e) ? e.code : `raw ${(e as { code?: string }).code}`;
    }
  };

  it('a NUL in a tenant name, in preferences (jsonb) or in a looked-up id', async () => {
    expect(await code(fx.stores.tenants.createTenant({ id: 'acme', name: 'Ac\0me' }))).toBe('invalid_request');
    expect(await code(fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme', preferences: { note: '\0' } }))).toBe('invalid_request');
    expect(await code(fx.stores.tenants.getTenant('a\0b'))).toBe('invalid_request');
    expect(await code(fx.stores.ledger.query({ tenantId: 'a\0' }))).toBe('invalid_request');
  });

  it('a time past BIGINT in a ledger or audit query', async () => {
    expect(await code(fx.stores.ledger.query({ from: 1e20 }))).toBe('invalid_request');
    expect(await code(fx.stores.audit.list({ from: 1e20 }))).toBe('invalid_request');
  });

  it('inside a transaction too (a key renamed to a name with a NUL)', async () => {
    await fx.stores.tenants.createTenant({ id: 'acme', name: 'Acme' });
    const { key } = await fx.stores.tenants.createKey('acme', { name: 'k' });
    expect(await code(fx.stores.tenants.updateKey(key.id, { name: 'k\0' }))).toBe('invalid_request');
  });
});
