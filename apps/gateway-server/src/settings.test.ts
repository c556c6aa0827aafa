import { CONFIG_ENV } from '@llmrr/core';
import { constants } from 'node:buffer';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createClient } from 'redis';
import { describe, expect, it, vi } from 'vitest';
import { loadServerConfig } from './load-config.js';
import { demoExposureWarning, readSettings } from './settings.js';

describe('readSettings: LLMRR_HEAP_GROWING_PERCENT', () => {
  it('defaults to 25, takes 0 (V8 default) and other integers', () => {
    expect(readSettings({}, '/tmp').heapGrowingPercent).toBe(25);
    expect(readSettings({ LLMRR_HEAP_GROWING_PERCENT: '0' }, '/tmp').heapGrowingPercent).toBe(0);
    expect(readSettings({ LLMRR_HEAP_GROWING_PERCENT: ' 50 ' }, '/tmp').heapGrowingPercent).toBe(50);
  });

  it('refuses a value that is not an integer 0-1000, naming the variable', () => {
    for (const bad of ['x', '-1', '2.5', '1001']) {
      expect(() => readSettings({ LLMRR_HEAP_GROWING_PERCENT: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_HEAP_GROWING_PERCENT' }));
    }
  });
});

describe('readSettings: LLMRR_REQUEST_TIMEOUT_MS', () => {
  it('defaults to 60 s and takes integers of 1 s to 1 h', () => {
    expect(readSettings({}, '/tmp').requestTimeoutMs).toBe(60_000);
    expect(readSettings({ LLMRR_REQUEST_TIMEOUT_MS: ' 15000 ' }, '/tmp').requestTimeoutMs).toBe(15_000);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['x', '500', '2.5', '3600001', '-1']) {
      expect(() => readSettings({ LLMRR_REQUEST_TIMEOUT_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_REQUEST_TIMEOUT_MS' }));
    }
  });
});

describe('readSettings: LLMRR_KEEP_ALIVE_TIMEOUT_MS', () => {
  it('is absent by default (serveGateway keeps node:http\'s 5 s) and takes integers of 1 s to a day', () => {
    expect(readSettings({}, '/tmp').keepAliveTimeoutMs).toBeUndefined();
    // Above an AWS ALB's 60 s idle timeout.
    expect(readSettings({ LLMRR_KEEP_ALIVE_TIMEOUT_MS: ' 65000 ' }, '/tmp').keepAliveTimeoutMs).toBe(65_000);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['0', '999', '86400001', '1.5', 'x', '-1']) {
      expect(() => readSettings({ LLMRR_KEEP_ALIVE_TIMEOUT_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_KEEP_ALIVE_TIMEOUT_MS' }));
    }
  });
});

describe('readSettings: LLMRR_READY_TIMEOUT_MS', () => {
  it("is absent by default (the gateway's 5 s) and takes integers of 100 ms to 10 minutes", () => {
    expect(readSettings({}, '/tmp').readyTimeoutMs).toBeUndefined();
    // Below a Kubernetes probe's default 1 s timeout.
    expect(readSettings({ LLMRR_READY_TIMEOUT_MS: '800' }, '/tmp').readyTimeoutMs).toBe(800);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['0', '99', '600001', '1.5', 'x', '-1']) {
      expect(() => readSettings({ LLMRR_READY_TIMEOUT_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_READY_TIMEOUT_MS' }));
    }
  });
});

describe('readSettings: LLMRR_STREAM_HOLD_MS', () => {
  it("is absent by default (the gateway's 10 s) and takes integers of 0 ms (headers at once) to the longest timer (no bound)", () => {
    expect(readSettings({}, '/tmp').streamHoldMs).toBeUndefined();
    for (const ok of [0, 5000, 2_147_483_647]) expect(readSettings({ LLMRR_STREAM_HOLD_MS: String(ok) }, '/tmp').streamHoldMs).toBe(ok);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['-1', '2147483648', '1.5', 'x', 'Infinity']) {
      expect(() => readSettings({ LLMRR_STREAM_HOLD_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_STREAM_HOLD_MS', message: expect.stringContaining('LLMRR_STREAM_HOLD_MS') }));
    }
  });
});

describe('readSettings: LLMRR_SHUTDOWN_GRACE_MS', () => {
  it('defaults to 10 s and takes integers of 0 to 1 h', () => {
    expect(readSettings({}, '/tmp').shutdownGraceMs).toBe(10_000);
    // Kubernetes' default terminationGracePeriodSeconds is 30: a grace well below it leaves time to settle and close.
    expect(readSettings({ LLMRR_SHUTDOWN_GRACE_MS: ' 20000 ' }, '/tmp').shutdownGraceMs).toBe(20_000);
    expect(readSettings({ LLMRR_SHUTDOWN_GRACE_MS: '0' }, '/tmp').shutdownGraceMs).toBe(0);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['-1', '3600001', '1.5', 'x', '10s']) {
      expect(() => readSettings({ LLMRR_SHUTDOWN_GRACE_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_SHUTDOWN_GRACE_MS' }));
    }
  });
});

describe('readSettings: LLMRR_SHUTDOWN_DELAY_MS', () => {
  it('defaults to 0 (a Ctrl-C stops accepting at once) and takes integers of 0 to 10 min', () => {
    expect(readSettings({}, '/tmp').shutdownDelayMs).toBe(0);
    expect(readSettings({ LLMRR_SHUTDOWN_DELAY_MS: ' 5000 ' }, '/tmp').shutdownDelayMs).toBe(5_000);
    expect(readSettings({ LLMRR_SHUTDOWN_DELAY_MS: '600000' }, '/tmp').shutdownDelayMs).toBe(600_000);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['-1', '600001', '1.5', 'x', '5s']) {
      expect(() => readSettings({ LLMRR_SHUTDOWN_DELAY_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_SHUTDOWN_DELAY_MS' }));
    }
  });
});

describe('readSettings: LLMRR_SHUTDOWN_CUT_SETTLE_MS', () => {
  it('is absent by default (serveGateway\'s cutSettleMs default) and takes integers of 0 to 10 min', () => {
    expect(readSettings({}, '/tmp').shutdownCutSettleMs).toBeUndefined();
    expect(readSettings({ LLMRR_SHUTDOWN_CUT_SETTLE_MS: ' 3000 ' }, '/tmp').shutdownCutSettleMs).toBe(3_000);
    expect(readSettings({ LLMRR_SHUTDOWN_CUT_SETTLE_MS: '0' }, '/tmp').shutdownCutSettleMs).toBe(0);
    expect(readSettings({ LLMRR_SHUTDOWN_CUT_SETTLE_MS: '600000' }, '/tmp').shutdownCutSettleMs).toBe(600_000);
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['-1', '600001', '1.5', 'x', '2s']) {
      expect(() => readSettings({ LLMRR_SHUTDOWN_CUT_SETTLE_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_SHUTDOWN_CUT_SETTLE_MS', message: expect.stringContaining('LLMRR_SHUTDOWN_CUT_SETTLE_MS') }));
    }
  });
});

describe('readSettings: numeric variables take decimal integers only', () => {
  // Number() alone would read PORT=0x10 as port 16 and LLMRR_SHUTDOWN_GRACE_MS=1e3 as 1000, silently.
  it.each([
    ['PORT', '0x10'],
    ['PORT', '0b11'],
    ['PORT', '0o17'],
    ['PORT', '+80'],
    ['LLMRR_SHUTDOWN_GRACE_MS', '1e3'],
    ['LLMRR_REQUEST_TIMEOUT_MS', '5000.0'],
    ['LLMRR_HEAP_GROWING_PERCENT', '0x19'],
    ['LLMRR_MAX_BODY_BYTES', '0x100000'],
  ])('refuses %s=%s naming the variable', (name, raw) => {
    expect(() => readSettings({ [name]: raw }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: name }));
  });

  it('takes plain decimal digits (leading zeros included)', () => {
    expect(readSettings({ PORT: '0080', LLMRR_SHUTDOWN_GRACE_MS: '1000' }, '/tmp')).toMatchObject({ port: 80, shutdownGraceMs: 1000 });
  });
});

describe('demoExposureWarning', () => {
  it('warns of demo mode listening beyond loopback, naming HOST and LLMRR_DEMO', () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.10', 'gateway.internal']) {
      expect(demoExposureWarning(readSettings({ HOST: host }, '/tmp')), host).toMatch(new RegExp(`^demo mode on HOST ${host.replace(/\./g, '\\.')}, beyond loopback: .*LLMRR_DEMO=false`));
    }
  });

  it('says nothing on loopback (the default HOST) or with keys required', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(demoExposureWarning(readSettings({ HOST: host }, '/tmp')), host).toBeUndefined();
    expect(demoExposureWarning(readSettings({}, '/tmp'))).toBeUndefined();
    expect(demoExposureWarning(readSettings({ HOST: '0.0.0.0', LLMRR_DEMO: 'false' }, '/tmp'))).toBeUndefined();
  });
});

describe('readSettings: LLMRR_REDIS_TIMEOUT_MS and LLMRR_LEASE_RENEW_INTERVAL_MS', () => {
  it('are absent by default (the stores and the gateway use their defaults) and take integers in range', () => {
    const d = readSettings({}, '/tmp');
    expect(d.redisTimeoutMs).toBeUndefined();
    expect(d.leaseRenewIntervalMs).toBeUndefined();
    const s = readSettings({ LLMRR_STATE: 'shared', LLMRR_REDIS_TIMEOUT_MS: ' 500 ', LLMRR_LEASE_RENEW_INTERVAL_MS: '60000' }, '/tmp');
    expect(s.redisTimeoutMs).toBe(500);
    expect(s.leaseRenewIntervalMs).toBe(60_000);
  });

  it('LLMRR_POSTGRES_REPORT_TIMEOUT_MS: absent by default (60000 in the stores), integers from 100 to 3600000', () => {
    expect(readSettings({}, '/tmp')).toMatchObject({ postgresReportTimeoutMs: undefined });
    expect(readSettings({ LLMRR_STATE: 'shared', LLMRR_POSTGRES_REPORT_TIMEOUT_MS: ' 3600000 ' }, '/tmp')).toMatchObject({ postgresReportTimeoutMs: 3_600_000 });
    expect(readSettings({ LLMRR_STATE: 'shared', LLMRR_POSTGRES_REPORT_TIMEOUT_MS: '100' }, '/tmp')).toMatchObject({ postgresReportTimeoutMs: 100 });
    for (const bad of ['0', '99', '3600001', '1.5', 'abc', '-1']) {
      expect(() => readSettings({ LLMRR_STATE: 'shared', LLMRR_POSTGRES_REPORT_TIMEOUT_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_POSTGRES_REPORT_TIMEOUT_MS' }));
    }
  });

  it('LLMRR_POSTGRES_QUERY_TIMEOUT_MS and LLMRR_POSTGRES_AUDIT_TIMEOUT_MS: absent by default (5000 each in the stores), integers from 100 to 600000', () => {
    expect(readSettings({}, '/tmp')).toMatchObject({ postgresQueryTimeoutMs: undefined, postgresAuditTimeoutMs: undefined });
    expect(readSettings({ LLMRR_STATE: 'shared', LLMRR_POSTGRES_QUERY_TIMEOUT_MS: '100', LLMRR_POSTGRES_AUDIT_TIMEOUT_MS: ' 600000 ' }, '/tmp')).toMatchObject({ postgresQueryTimeoutMs: 100, postgresAuditTimeoutMs: 600_000 });
    for (const name of ['LLMRR_POSTGRES_QUERY_TIMEOUT_MS', 'LLMRR_POSTGRES_AUDIT_TIMEOUT_MS']) {
      for (const bad of ['0', '99', '600001', '1.5', 'abc', '-1']) {
        expect(() => readSettings({ LLMRR_STATE: 'shared', [name]: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: name }));
      }
    }
  });

  it('refuse anything else, naming the variable', () => {
    for (const bad of ['0', '49', '60001', '1.5', 'abc', '-1']) {
      expect(() => readSettings({ LLMRR_STATE: 'shared', LLMRR_REDIS_TIMEOUT_MS: bad }, '/tmp')).toThrow(
        expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_REDIS_TIMEOUT_MS', message: expect.stringMatching(/^LLMRR_REDIS_TIMEOUT_MS must be/) }),
      );
    }
    // Leases expire 10 minutes after their last renewal: an interval of 5 minutes at most.
    for (const bad of ['999', '300001', '600000', 'x']) {
      expect(() => readSettings({ LLMRR_LEASE_RENEW_INTERVAL_MS: bad }, '/tmp')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_LEASE_RENEW_INTERVAL_MS' }));
    }
  });
});

describe('readSettings: shared-mode variables without LLMRR_STATE=shared', () => {
  // Ignored there, replicas would each keep their own tenants, keys, limits and budgets: a tenant would spend its
  // budget once per replica. Refused at startup instead.
  const SHARED_URLS = {
    LLMRR_REDIS_URL: 'redis://127.0.0.1:6379',
    LLMRR_POSTGRES_URL: 'postgres://llmrr@127.0.0.1/llmrr',
    LLMRR_CACHE_REDIS_URL: 'redis://127.0.0.1:6380',
  };
  const SHARED_TUNING = { LLMRR_REDIS_PREFIX: 'app:', LLMRR_POSTGRES_SCHEMA: 'llmrr', LLMRR_REDIS_TIMEOUT_MS: '500', LLMRR_POSTGRES_QUERY_TIMEOUT_MS: '2500', LLMRR_POSTGRES_AUDIT_TIMEOUT_MS: '8000', LLMRR_POSTGRES_REPORT_TIMEOUT_MS: '90000', LLMRR_CACHE_MAX_BYTES: '16000000' };
  const SHARED_ONLY = { ...SHARED_URLS, ...SHARED_TUNING };

  it('the URLs are refused in embedded (the default) and memory mode, naming the variable and LLMRR_STATE=shared', () => {
    for (const [name, value] of Object.entries(SHARED_URLS)) {
      for (const state of [undefined, '', 'embedded', 'memory']) {
        const env = state === undefined ? { [name]: value } : { LLMRR_STATE: state, [name]: value };
        expect(() => readSettings(env, '/tmp'), `${name} with LLMRR_STATE=${state}`).toThrow(
          expect.objectContaining({ code: 'config_invalid', param: name, message: expect.stringMatching(new RegExp(`^${name} is read only with LLMRR_STATE=shared .*set LLMRR_STATE=shared .*or unset ${name}$`)) }),
        );
      }
    }
    expect(() => readSettings({ LLMRR_REDIS_URL: SHARED_ONLY.LLMRR_REDIS_URL }, '/tmp')).toThrow(/\(LLMRR_STATE is embedded by default\)/);
    // With the tuning variables too, the URL is what is named.
    expect(() => readSettings({ LLMRR_STATE: 'memory', ...SHARED_TUNING, LLMRR_POSTGRES_URL: SHARED_URLS.LLMRR_POSTGRES_URL }, '/tmp')).toThrow(expect.objectContaining({ param: 'LLMRR_POSTGRES_URL' }));
  });

  it('the tuning variables without a URL start (one .env for a memory dev profile and a shared production one): ignored', () => {
    for (const state of [undefined, 'embedded', 'memory'] as const) {
      const env = state === undefined ? { ...SHARED_TUNING } : { LLMRR_STATE: state, ...SHARED_TUNING };
      expect(readSettings(env, '/tmp'), `LLMRR_STATE=${state}`).toMatchObject({ state: state ?? 'embedded', redisUrl: undefined, postgresUrl: undefined });
    }
  });

  it('are taken with LLMRR_STATE=shared', () => {
    expect(readSettings({ LLMRR_STATE: 'shared', ...SHARED_ONLY }, '/tmp')).toMatchObject({
      state: 'shared', redisUrl: SHARED_ONLY.LLMRR_REDIS_URL, cacheRedisUrl: SHARED_ONLY.LLMRR_CACHE_REDIS_URL, postgresUrl: SHARED_ONLY.LLMRR_POSTGRES_URL, redisKeyPrefix: 'app:', postgresSchema: 'llmrr', redisTimeoutMs: 500,
      postgresQueryTimeoutMs: 2_500, postgresAuditTimeoutMs: 8_000, postgresReportTimeoutMs: 90_000, cacheMaxBytes: 16_000_000,
    });
  });
});

describe('readSettings: shared-mode URLs and schema, checked at start', () => {
  // Unchecked, a Redis URL without a host went to localhost:6379 and a PostgreSQL one to localhost:5432 (silent
  // defaults); `http://` was taken as postgres://; "nonsense" failed as "getaddrinfo ENOTFOUND base"; none named the variable.
  const REDIS = 'redis://127.0.0.1:6379';
  const PG = 'postgres://llmrr@127.0.0.1/llmrr';
  const shared = (env: Record<string, string>) => readSettings({ LLMRR_STATE: 'shared', LLMRR_REDIS_URL: REDIS, LLMRR_POSTGRES_URL: PG, ...env }, '/tmp');

  it('a Redis URL without a host, of another scheme or not a URL is refused, naming LLMRR_REDIS_URL (and no password)', () => {
    for (const bad of ['redis://', 'redis://:6379', 'http://127.0.0.1:6379', 'localhost:6379', 'nonsense', 'rediss://:s3cret@/0']) {
      expect(() => shared({ LLMRR_REDIS_URL: bad }), bad).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_REDIS_URL', message: expect.stringMatching(/^LLMRR_REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL naming a host .*, got "/) }));
      expect(() => shared({ LLMRR_REDIS_URL: bad })).not.toThrow(/s3cret/);
    }
    for (const good of ['redis://127.0.0.1:6379', 'rediss://user:pw@cache.example:6380/2', 'redis://[::1]:6379', 'redis://cache']) expect(shared({ LLMRR_REDIS_URL: good }).redisUrl).toBe(good);
  });

  it("the exact cache's own Redis URL (LLMRR_CACHE_REDIS_URL) is checked as LLMRR_REDIS_URL, naming its variable; absent: none", () => {
    for (const bad of ['redis://', 'http://127.0.0.1:6379', 'rediss://:s3cret@/0', 'unix://host/tmp/redis.sock']) {
      expect(() => shared({ LLMRR_CACHE_REDIS_URL: bad }), bad).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_CACHE_REDIS_URL', message: expect.stringMatching(/^LLMRR_CACHE_REDIS_URL(:| must)/) }));
      expect(() => shared({ LLMRR_CACHE_REDIS_URL: bad })).not.toThrow(/s3cret/);
    }
    expect(shared({ LLMRR_CACHE_REDIS_URL: 'redis://cache.example:6380/1' }).cacheRedisUrl).toBe('redis://cache.example:6380/1');
    expect(shared({}).cacheRedisUrl).toBeUndefined();
  });

  it("the exact cache's bound (LLMRR_CACHE_MAX_BYTES): absent by default (the stores' default), decimal bytes from 1024, else refused naming it", () => {
    expect(shared({}).cacheMaxBytes).toBeUndefined();
    expect(shared({ LLMRR_CACHE_MAX_BYTES: ' 1024 ' }).cacheMaxBytes).toBe(1024);
    expect(shared({ LLMRR_CACHE_MAX_BYTES: '9007199254740991' }).cacheMaxBytes).toBe(Number.MAX_SAFE_INTEGER);
    for (const bad of ['0', '1023', '64mb', '6.4e7', '0x100000', '-1', '9007199254740992']) {
      expect(() => shared({ LLMRR_CACHE_MAX_BYTES: bad }), bad).toThrow(
        expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_CACHE_MAX_BYTES', message: `LLMRR_CACHE_MAX_BYTES must be an integer number of bytes from 1024 to 9007199254740991, got "${bad}"` }),
      );
    }
  });

  it('a Redis unix socket URL as the client takes it (unix:///path[?db=N], with user:password@) is accepted; a malformed one is refused', () => {
    for (const good of ['unix:///var/run/redis/redis.sock', 'unix:///tmp/redis.sock?db=2', 'unix://default:pw@/tmp/redis.sock?db=0']) expect(shared({ LLMRR_REDIS_URL: good }).redisUrl, good).toBe(good);
    for (const bad of ['unix://', 'unix:///', 'unix://host/tmp/redis.sock', 'unix:/tmp/redis.sock', 'unix:///tmp/redis.sock?db=x', 'unix://u:s3cret@/tmp/redis.sock?db=x']) {
      expect(() => shared({ LLMRR_REDIS_URL: bad }), bad).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_REDIS_URL', message: expect.stringMatching(/^LLMRR_REDIS_URL: a unix socket URL must be unix:\/\/\/path/) }));
      expect(() => shared({ LLMRR_REDIS_URL: bad })).not.toThrow(/s3cret/);
    }
  });

  it('the Redis client the store uses connects through the unix:///path?db=N a start accepts (a real redis-server on a socket)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-settings-redis-'));
    const sock = join(dir, 'redis.sock');
    const server = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    try {
      await vi.waitFor(() => expect(existsSync(sock)).toBe(true), { timeout: 10_000, interval: 50 });
      const url = shared({ LLMRR_REDIS_URL: `unix://${sock}?db=2` }).redisUrl!;
      const client = createClient({ url });
      await client.connect();
      try {
        expect(await client.ping()).toBe('PONG');
        await client.set('k', 'v');
        expect(await client.sendCommand(['CLIENT', 'INFO'])).toMatch(/ db=2 /);
      } finally {
        await client.quit();
      }
    } finally {
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);

  it('a PostgreSQL URL without a host, of another scheme or not a URL is refused, naming LLMRR_POSTGRES_URL', () => {
    for (const bad of ['postgres://', 'postgres:///llmrr', 'http://127.0.0.1/llmrr', 'nonsense', 'postgres://user@/llmrr']) {
      expect(() => shared({ LLMRR_POSTGRES_URL: bad }), bad).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_POSTGRES_URL', message: expect.stringMatching(/^LLMRR_POSTGRES_URL must be a postgres:\/\/ URL naming a host/) }));
    }
    // pg's other ways of naming the host: ?host= (a socket directory), PGHOST for an empty host, socket:.
    for (const good of ['postgresql://u:p@db.example:5433/llmrr?sslmode=require', 'postgres://user@/llmrr?host=/var/run/postgresql', 'postgresql://%2Fvar%2Frun%2Fpostgresql/llmrr', 'socket:/var/run/postgresql?db=llmrr']) {
      expect(shared({ LLMRR_POSTGRES_URL: good }).postgresUrl, good).toBe(good);
    }
    expect(shared({ LLMRR_POSTGRES_URL: 'postgres:///llmrr', PGHOST: '/var/run/postgresql' }).postgresUrl).toBe('postgres:///llmrr');
  });

  it('pg\'s socket form "/var/run/postgresql llmrr" (a socket directory, then the database) is accepted, as pg reads it', () => {
    const url = '/var/run/postgresql llmrr';
    // pg's own parser of connectionString, in a plain node next to pg (vitest's `import` condition would hand require the ESM build).
    const pgDir = dirname(createRequire(import.meta.url).resolve('pg'));
    const out = execFileSync(process.execPath, ['-e', "process.stdout.write(JSON.stringify(require('pg-connection-string').parse(process.argv[1])))", url], { cwd: pgDir, encoding: 'utf8' });
    expect(JSON.parse(out)).toMatchObject({ host: '/var/run/postgresql', database: 'llmrr' });
    expect(shared({ LLMRR_POSTGRES_URL: url }).postgresUrl).toBe(url);
  });

  it('a schema name PostgreSQL would not take is refused naming LLMRR_POSTGRES_SCHEMA, before any connection; ignored outside shared mode', () => {
    for (const bad of ['my-schema', 'Public', '1st', 'a'.repeat(64)]) {
      expect(() => shared({ LLMRR_POSTGRES_SCHEMA: bad }), bad).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_POSTGRES_SCHEMA' }));
    }
    expect(shared({ LLMRR_POSTGRES_SCHEMA: ' llmrr_2 ' }).postgresSchema).toBe('llmrr_2');
    expect(readSettings({ LLMRR_STATE: 'memory', LLMRR_POSTGRES_SCHEMA: 'my-schema' }, '/tmp').state).toBe('memory');
  });
});

describe('readSettings: LLMRR_MAX_BODY_BYTES and LLMRR_MAX_MESSAGES', () => {
  it('are absent by default (the gateway uses its defaults, 32 MiB and 1000) and take integers in range', () => {
    const d = readSettings({}, '/tmp');
    expect([d.maxBodyBytes, d.maxMessages]).toEqual([undefined, undefined]);
    const s = readSettings({ LLMRR_MAX_BODY_BYTES: ' 67108864 ', LLMRR_MAX_MESSAGES: '5000' }, '/tmp');
    expect([s.maxBodyBytes, s.maxMessages]).toEqual([64 * 1024 * 1024, 5000]);
    expect(readSettings({ LLMRR_MAX_BODY_BYTES: '1024', LLMRR_MAX_MESSAGES: '1' }, '/tmp')).toMatchObject({ maxBodyBytes: 1024, maxMessages: 1 });
  });

  it('refuse anything else at startup, naming the variable and the range', () => {
    // Above the longest string (V8's, 536 870 888 characters) a body could not be decoded: 1 GiB is refused.
    for (const bad of ['0', '1023', String(constants.MAX_STRING_LENGTH + 1), '1073741824', '32MiB', '1e9.5', '4.5', 'abc', '-1']) {
      expect(() => readSettings({ LLMRR_MAX_BODY_BYTES: bad }, '/tmp'), bad).toThrow(
        expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_MAX_BODY_BYTES', message: `LLMRR_MAX_BODY_BYTES must be an integer number of bytes from 1024 to ${constants.MAX_STRING_LENGTH}, got "${bad}"` }),
      );
    }
    expect(readSettings({ LLMRR_MAX_BODY_BYTES: String(constants.MAX_STRING_LENGTH) }, '/tmp').maxBodyBytes).toBe(constants.MAX_STRING_LENGTH);
    // The bytes of bodies read at once: absent by default (no bound), at least 1024.
    expect(readSettings({}, '/tmp').maxBodyBytesInFlight).toBeUndefined();
    expect(readSettings({ LLMRR_MAX_BODY_BYTES_IN_FLIGHT: '268435456' }, '/tmp').maxBodyBytesInFlight).toBe(268_435_456);
    for (const bad of ['0', '1023', '256MiB', '-1']) {
      expect(() => readSettings({ LLMRR_MAX_BODY_BYTES_IN_FLIGHT: bad }, '/tmp'), bad).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_MAX_BODY_BYTES_IN_FLIGHT' }));
    }
    for (const bad of ['0', '1000001', '2.5', 'many']) {
      expect(() => readSettings({ LLMRR_MAX_MESSAGES: bad }, '/tmp'), bad).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_MAX_MESSAGES' }));
    }
  });
});

describe('readSettings: LLMRR_TRUSTED_PROXIES', () => {
  it('is absent by default (X-Forwarded-For is never read) and takes comma-separated addresses and CIDR ranges', () => {
    expect(readSettings({}, '/tmp').trustedProxies).toBeUndefined();
    expect(readSettings({ LLMRR_TRUSTED_PROXIES: ' 10.0.0.0/8, 192.168.1.5 ,fd00::/8,::1 ' }, '/tmp').trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.5', 'fd00::/8', '::1']);
    // IPv6 ranges, IPv4-mapped ones too (a /104 is the IPv4 /8).
    expect(readSettings({ LLMRR_TRUSTED_PROXIES: '::ffff:10.0.0.0/104,2001:db8::/32' }, '/tmp').trustedProxies).toEqual(['::ffff:10.0.0.0/104', '2001:db8::/32']);
  });
  it('refuses an entry that is no address or range at startup, naming the variable and the entry', () => {
    for (const bad of ['10.0.0.0/33', 'lb.internal', '10.0.0.0/8,loopback']) {
      expect(() => readSettings({ LLMRR_TRUSTED_PROXIES: bad }, '/tmp'), bad).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_TRUSTED_PROXIES' }));
    }
    expect(() => readSettings({ LLMRR_TRUSTED_PROXIES: '10.0.0.0/8,lb.internal' }, '/tmp')).toThrow(/"lb\.internal"/);
    // An IPv4-mapped range with the IPv4 prefix (an IPv6 /8 holding every IPv4 client): refused, naming both spellings.
    expect(() => readSettings({ LLMRR_TRUSTED_PROXIES: '::ffff:10.0.0.0/8' }, '/tmp')).toThrow(
      expect.objectContaining({ code: 'config_invalid', param: 'LLMRR_TRUSTED_PROXIES', message: expect.stringMatching(/^LLMRR_TRUSTED_PROXIES .*10\.0\.0\.0\/8 or .*::ffff:10\.0\.0\.0\/104$/) }),
    );
  });
});

describe('readSettings: LLMRR_END_USER_ID_SECRET', () => {
  it('is absent by default (scoped ids keyed by the tenant id) and taken trimmed; a short one is refused without echoing it', () => {
    expect(readSettings({}, '/tmp').endUserIdSecret).toBeUndefined();
    expect(readSettings({ LLMRR_END_USER_ID_SECRET: ' end-user-secret-0123456789 \n' }, '/tmp').endUserIdSecret).toBe('end-user-secret-0123456789');
    let refused: unknown;
    try {
      readSettings({ LLMRR_END_USER_ID_SECRET: 'short-secret' }, '/tmp');
    } catch (e) {
      refused = e;
    }
    expect(refused).toMatchObject({ code: 'config_invalid', param: 'LLMRR_END_USER_ID_SECRET', message: 'LLMRR_END_USER_ID_SECRET must be at least 16 characters' });
    expect(String((refused as Error).message)).not.toContain('short-secret');
  });
});

describe('readSettings: an empty or blank variable counts as unset', () => {
  // e.g. docker compose `LLMRR_STATE: ${LLMRR_STATE}` with the variable unset passes "".
  const NAMES = [
    'PORT', 'HOST', 'LLMRR_STATE', 'LLMRR_REQUEST_TIMEOUT_MS', 'LLMRR_KEEP_ALIVE_TIMEOUT_MS', 'LLMRR_READY_TIMEOUT_MS', 'LLMRR_STREAM_HOLD_MS', 'LLMRR_SHUTDOWN_GRACE_MS', 'LLMRR_SHUTDOWN_DELAY_MS', 'LLMRR_SHUTDOWN_CUT_SETTLE_MS', 'LLMRR_HEAP_GROWING_PERCENT', 'LLMRR_DATA_DIR', 'LLMRR_CONFIG', 'LLMRR_SHARED_DIR',
    'LLMRR_ADMIN_KEY', 'LLMRR_METRICS_KEY', 'LLMRR_END_USER_ID_SECRET', 'LLMRR_DEMO', 'LLMRR_REDIS_URL', 'LLMRR_CACHE_REDIS_URL', 'LLMRR_POSTGRES_URL', 'LLMRR_REDIS_PREFIX', 'LLMRR_POSTGRES_SCHEMA',
    'LLMRR_REDIS_TIMEOUT_MS', 'LLMRR_LEASE_RENEW_INTERVAL_MS', 'LLMRR_MAX_BODY_BYTES', 'LLMRR_MAX_MESSAGES', 'LLMRR_MAX_BODY_BYTES_IN_FLIGHT', 'LLMRR_CORS_ORIGINS', 'LLMRR_TRUSTED_PROXIES', 'LLMRR_OTEL', 'OTEL_SDK_DISABLED',
    'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  ];

  it('gives the defaults for every variable the server reads (a blank PORT is not port 0, an empty LLMRR_STATE is embedded)', () => {
    const defaults = readSettings({}, '/srv');
    expect(defaults).toMatchObject({ port: 3006, state: 'embedded' });
    for (const name of NAMES) {
      for (const blank of ['', ' ', '\t \n']) expect(readSettings({ [name]: blank }, '/srv'), `${name}=${JSON.stringify(blank)}`).toEqual(defaults);
    }
    // With tracing on, its own optional variables.
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    const otel = readSettings(on, '/srv');
    for (const name of ['OTEL_SERVICE_NAME', 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', 'LLMRR_OTEL']) {
      expect(readSettings({ ...on, [name]: ' ' }, '/srv'), name).toEqual(otel);
    }
    // pnpm sets INIT_CWD, the directory it was run from; empty, the process's own.
    expect(readSettings({ INIT_CWD: '' }).cwd).toBe(process.cwd());
  });

  it('trims the values it takes', () => {
    expect(readSettings({ PORT: ' 8080 ', LLMRR_STATE: ' memory\n' }, '/srv')).toMatchObject({ port: 8080, state: 'memory' });
    expect(() => readSettings({ PORT: ' 8o80 ' }, '/srv')).toThrow(expect.objectContaining({ code: 'config_invalid', param: 'PORT', message: 'PORT must be a port number (0-65535), got "8o80"' }));
  });

  it('a blank LLM_ROUTER_CONFIG leaves the server on the embedded default config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmrr-gw-settings-'));
    try {
      for (const name of [CONFIG_ENV.CONFIG, CONFIG_ENV.CONFIG_JSON, CONFIG_ENV.MODELS]) {
        expect((await loadServerConfig(readSettings({}, dir), { [name]: ' ' })).source, name).toBe('embedded default');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readSettings: an OTLP endpoint refused at startup', () => {
  it('is named without user info or query even when it does not parse as a URL (port out of range)', () => {
    const raw = 'https://tenant-42:glc_s3cr3t-token@collector.example:99999/v1/traces?api_key=q5ecret';
    let message = '';
    try {
      readSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: raw }, '/');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL, got "https://collector.example:99999/v1/traces"');
    // A password holding `/` or `@` is cut the same way; one holding `?` leaves the host unknown (an `@` after the
    // first `?`), so only the scheme is shown; a value without a scheme is not shown at all.
    expect(() => readSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://u:p/a@ss@collector:70000' }, '/')).toThrow('got "http://collector:70000"');
    expect(() => readSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://u:p/a?s@ss@collector:70000' }, '/')).toThrow('got "http://(address not shown)"');
    expect(() => readSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'user:pw@collector:4318' }, '/')).toThrow(/got "\(not a URL; not shown\)"$/);
  });
});
