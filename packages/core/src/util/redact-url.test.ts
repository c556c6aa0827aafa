import { describe, expect, it } from 'vitest';
import { ADDRESS_NOT_SHOWN, CLIENT_ERROR_HIDDEN, hideClientError, isAddressSure, NOT_A_URL_SHOWN, parseUrlWithClearUserInfo, postgresTarget, redactPostgresUrl, redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://u:pw@db.example:5432/app?password=pw2&sslmode=require#x', 'postgres://db.example:5432/app'],
    ['postgres://u@127.0.0.1:1/db?password=S', 'postgres://127.0.0.1:1/db'],
    ['rediss://:token@cache.example:6380/2', 'rediss://cache.example:6380/2'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['https://tenant:glc_token@collector.example/v1/traces?api_key=k', 'https://collector.example/v1/traces'],
  ])('%s -> %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('strips by text what may hold credentials from a scheme:// string that does not parse with a host', () => {
    expect(redactUrl('http://u:p/a@collector:70000/v1?x=1')).toBe('http://collector:70000/v1');
    expect(redactUrl('redis://:pw@/0?x=1')).toBe('redis:///0');
  });

  it('strips by text a URL whose path has an "@": a password with an unescaped "/" after digits (parses as host "user", port 123)', () => {
    expect(redactUrl('postgres://user:123/PW-TAIL@db.example/app')).toBe('postgres://db.example/app');
    expect(redactUrl('postgres://user:1/a/b@db.example:5432/app?sslmode=require')).toBe('postgres://db.example:5432/app');
  });

  it('shows only the scheme of a URL with an "@" after its first "?" or "#": a password with an unescaped "?" or "#" (parses as host "user", port 12)', () => {
    expect(redactUrl('redis://default:12?SECRET@cache.example:6379/0')).toBe(`redis://${ADDRESS_NOT_SHOWN}`);
    expect(redactUrl('redis://default:12#SECRET@cache.example:6379')).toBe(`redis://${ADDRESS_NOT_SHOWN}`);
    expect(redactUrl('http://u:p/a?s@ss@collector:70000')).toBe(`http://${ADDRESS_NOT_SHOWN}`);
  });

  it('an "@" in the query, raw (a name such as ?application_name=svc@prod, or a password\'s rest): only the scheme, the address not sure; written %40, the address is shown', () => {
    const cases = [
      'postgres://db:5432/app?application_name=svc@prod&password=S3CRET',
      'postgres://u:S3CRET@db:5432/app?application_name=svc@prod',
      'redis://cache.example:6379/0?client_name=a@b',
      'redis://:S3CRET@cache.example?client_name=a@b',
      'redis://:S3CRET@[::1]:6379/0?client_name=a@b',
      'postgres://u:S3CRET@db/app?sslmode=require&options=-c%20search_path=a@b&fallback_application_name=x@y',
      'unix://:S3CRET@/run/redis/redis.sock?db=2&client_name=svc@prod',
      'unix:///run/redis/redis.sock?client_name=svc@prod',
    ];
    for (const url of cases) {
      expect(redactUrl(url), url).toBe(`${url.slice(0, url.indexOf('://'))}://${ADDRESS_NOT_SHOWN}`);
      expect(isAddressSure(url), url).toBe(false);
      expect(parseUrlWithClearUserInfo(url), url).toBeUndefined();
    }
    const encoded = [
      ['postgres://u:S3CRET@db:5432/app?application_name=svc%40prod', 'postgres://db:5432/app'],
      ['redis://cache.example:6379/0?client_name=a%40b', 'redis://cache.example:6379/0'],
      ['redis://[::1]:6379?client_name=a%40b', 'redis://[::1]:6379'],
      ['unix://:S3CRET@/run/redis/redis.sock?db=2&client_name=svc%40prod', 'unix:///run/redis/redis.sock'],
    ];
    for (const [url, shown] of encoded) {
      expect(redactUrl(url!), url).toBe(shown);
      expect(isAddressSure(url!), url).toBe(true);
    }
  });

  // A password with an "@" before its first "?" or "/", its rest a query with a name key: read as user info before the
  // first "@", the host (and port, path) a piece of the password; text cannot tell it from a name's "@".
  it.each([
    // Password "AB@SECRETHOST?client_name=EF": read as user "user", password "AB", host "SECRETHOST".
    'redis://user:AB@SECRETHOST?client_name=EF@cache',
    'postgres://u:p@SECRETHOST?application_name=x@db/app',
    // Password "Q7@127.0.0.1:6379/SECRETPATH?client_name=EF": the real server's address, the path a piece.
    'redis://default:Q7@127.0.0.1:6379/SECRETPATH?client_name=EF@cache',
    // Hostless: password "H8@/SECRETDB?application_name=CBKC", the database a piece.
    'postgres://app:H8@/SECRETDB?application_name=CBKC@db/app',
    // pg reads ?user= over the URL's: password "Q7@db/app?user=SECRETUSER&application_name=EF".
    'postgres://u:Q7@db/app?user=SECRETUSER&application_name=EF@db',
    // Empty user, password starting "@": "@SECRETHOST?options=x".
    'redis://:@SECRETHOST?options=x@pg',
    'postgresql://u:A:C@SECRETHOST?fallback_application_name=AXYC@db?host=db2',
  ])('a password with an "@" and then a query with a name key and "@" (%s): only the scheme, not sure', (url) => {
    expect(redactUrl(url)).toBe(`${url.slice(0, url.indexOf('://'))}://${ADDRESS_NOT_SHOWN}`);
    expect(isAddressSure(url)).toBe(false);
    expect(parseUrlWithClearUserInfo(url)).toBeUndefined();
  });

  it('never shows a part of user info with an unescaped "@" and then "/", "?" or "#" (parses with user info, its host a piece of the password)', () => {
    const cases = [
      // Password "S3@CR/ET": parses as user "default", password "S3", host "CR", path "/ET@cache:6379".
      ['redis://default:S3@CR/ET@cache:6379', 'redis://cache:6379'],
      ['postgres://u:p@ss/w@rd@db:5432/app', 'postgres://db:5432/app'],
      ['unix://u:S3@CR/ET@/run/redis.sock', 'unix:///run/redis.sock'],
      ['redis://us/er:S3CRET@cache', 'redis://cache'],
      // The "@" that ends the user info after a "?" or "#": where the host is cannot be told.
      ['redis://default:S3@CR?ET@cache', `redis://${ADDRESS_NOT_SHOWN}`],
      ['redis://default:S3@CR#ET@cache', `redis://${ADDRESS_NOT_SHOWN}`],
      ['redis://S3?CRET@cache', `redis://${ADDRESS_NOT_SHOWN}`],
      ['redis://default:4821/?S3CRET@cache', `redis://${ADDRESS_NOT_SHOWN}`],
      ['unix://:S3@CR?ET@/run/redis.sock', `unix://${ADDRESS_NOT_SHOWN}`],
      // WHATWG skips any number of slashes after a special scheme: host "default", port 4821.
      ['https:///default:4821?S3CRET@cache', `https://${ADDRESS_NOT_SHOWN}`],
      ['https:///default:4821?k=S3CRET@cache', `https://${ADDRESS_NOT_SHOWN}`],
      ['https://\\default:4821?k=S3CRET@cache', `https://${ADDRESS_NOT_SHOWN}`],
      ['https:///u:S3CRET/x@cache/v1', 'https://cache/v1'],
      // No user info, no path, an "@" in the query: the host may be a user name (and port a password's start).
      ['redis://default:4821?k=S3CRET@cache', `redis://${ADDRESS_NOT_SHOWN}`],
      ['https://default:443?k=S3CRET@cache', `https://${ADDRESS_NOT_SHOWN}`],
      // A path whose "@" follows user info (a path "@" is never a store URL's).
      ['postgres://u:pw@db:5432/a@b', 'postgres://b'],
      // The "@" that ends the user info in a key=value value of the query or fragment.
      ['redis://user:S3@CR/0?k=XYZ@cache:6379', `redis://${ADDRESS_NOT_SHOWN}`],
      ['redis://user:S3@CR?k=XYZ@cache', `redis://${ADDRESS_NOT_SHOWN}`],
      ['redis://user:S3@CR#k=XYZ@cache', `redis://${ADDRESS_NOT_SHOWN}`],
      ['postgres://app:S3@CR/app?k=X@db:5432/app', `postgres://${ADDRESS_NOT_SHOWN}`],
      ['https://u:S3@CR\\x?k=v@host', `https://${ADDRESS_NOT_SHOWN}`],
      ['redis://user:4821/0?k=S3CRET@cache', `redis://${ADDRESS_NOT_SHOWN}`],
      ['redis://default:/abc?k=S3CRET@cache', `redis://${ADDRESS_NOT_SHOWN}`],
      ['redis://u:pw@cache/0?name=S3@CR', `redis://${ADDRESS_NOT_SHOWN}`],
      ['unix:///pw:S3?E=@@db:5432/run/redis.sock', `unix://${ADDRESS_NOT_SHOWN}`],
      ['unix://:pw@/run/redis.sock?db=0&x=S3@CR', `unix://${ADDRESS_NOT_SHOWN}`],
      ['https://collector.example#to=S3@CR', `https://${ADDRESS_NOT_SHOWN}`],
      ['https://u:pw@collector.example/v1#to=ops@CR', `https://${ADDRESS_NOT_SHOWN}`],
    ];
    for (const [url, shown] of cases) {
      expect(redactUrl(url!), url).toBe(shown);
      expect(redactUrl(url!), url).not.toMatch(/S3|CR|default|4821|pw/);
      expect(parseUrlWithClearUserInfo(url!), url).toBeUndefined();
    }
  });

  it("PostgreSQL: ?host= or ?port= with an \"@\" in a query value, whatever the user info: the address not shown (the query may be a password's rest, its host a piece)", () => {
    for (const url of [
      // Password "1?host=PIECE-S3CRET&application_name=x": read as host "u", port 1, no user info, pg's host "PIECE-S3CRET".
      'postgres://u:1?host=PIECE-S3CRET&application_name=x@db/app',
      // Password "p@ss?host=PIECE-S3CRET&application_name=x": read as user "u", password "p", host "ss".
      'postgres://u:p@ss?host=PIECE-S3CRET&application_name=x@db/app',
      'postgresql://u:p@ss?port=4821&options=x@db/app',
      'postgres://u:pw@/app?host=/var/run/PIECE-S3CRET&application_name=x@db',
    ]) {
      expect(isAddressSure(url), url).toBe(false);
      expect(parseUrlWithClearUserInfo(url), url).toBeUndefined();
      expect(redactUrl(url), url).toBe(`${url.slice(0, url.indexOf('://'))}://${ADDRESS_NOT_SHOWN}`);
    }
    // Without an "@" in the query the host stays sure.
    expect(isAddressSure('postgres://u:pw@db1/app?host=db2&port=6543')).toBe(true);
    expect(redactUrl('redis://:pw@cache:6379/0?host=x&client_name=svc%40prod')).toBe('redis://cache:6379/0');
  });

  it('no user info read and an "@" in the query (a password "1234?client_name=S3CRET" read as port 1234): only the scheme', () => {
    for (const url of ['redis://user:1234?client_name=S3CRET@cache', 'redis://user:1234/0?client_name=S3CRET@cache', 'postgres://u:1?application_name=x@db/app']) {
      expect(redactUrl(url), url).toBe(`${url.slice(0, url.indexOf('://'))}://${ADDRESS_NOT_SHOWN}`);
      expect(isAddressSure(url), url).toBe(false);
    }
  });

  it('parseUrlWithClearUserInfo: the URL when its host is surely the host, undefined when it may be a password\'s start or there is none', () => {
    expect(parseUrlWithClearUserInfo('redis://u:pw@cache.example:6380/2')?.host).toBe('cache.example:6380');
    expect(parseUrlWithClearUserInfo('redis://cache.example:6379/0?client_name=a%40b')?.host).toBe('cache.example:6379');
    expect(parseUrlWithClearUserInfo('postgres://u:pw@db:5432/app?application_name=svc%40prod')?.host).toBe('db:5432');
    // A raw "@" in the path, the query or the fragment: the user info may end there.
    for (const s of ['redis://cache.example:6379/0?client_name=a@b', 'postgres://u:pw@db:5432/app?application_name=svc@prod', 'https://collector.example/v1#to=ops@acme', 'https://collector.example#to=ops@acme', 'redis://cache.example:6379/0?name=a@b', 'redis://default:4821/SECRET@cache:6379', 'redis://default:4821?S@cache', 'redis://default:4821#S@cache', 'redis://default:?S@cache', 'redis:///0', 'not a url']) {
      expect(parseUrlWithClearUserInfo(s), s).toBeUndefined();
    }
  });

  it('shows no part of a string that does not start with scheme:// (a libpq key/value string, user:pw@host)', () => {
    for (const s of ['host=127.0.0.1 port=1 user=llmrr password=KV-SECRET-PW dbname=app', 'user:pw@collector:4318', 'not a url?password=x', 'password=a://b@c', '']) {
      expect(redactUrl(s)).toBe(NOT_A_URL_SHOWN);
    }
  });

  it('shows an absolute path without "@", "?", "=", ":" or "#" as it is (a Unix socket path), hides one with them', () => {
    expect(redactUrl('/var/run/redis/redis.sock')).toBe('/var/run/redis/redis.sock');
    for (const s of ['/sock?password=x', '/user@sock', '/a password=x', '/user:pw', '/sock#pw']) expect(redactUrl(s)).toBe(NOT_A_URL_SHOWN);
  });
});

describe('redactPostgresUrl: where pg connects', () => {
  it.each([
    // pg reads the query's host and port over the URL's own (the last value of each that is not empty).
    ['postgres://u:pw@db1:5432/app?host=db2', 'postgres://db2:5432/app'],
    ['postgresql://u:pw@db1:5432/app?sslmode=require&host=db2&port=6543&password=pw2', 'postgresql://db2:6543/app'],
    ['postgres://u:pw@db1/app?host=db2&host=db3&port=1&port=6000', 'postgres://db3:6000/app'],
    ['postgres://u:pw@db1:5433/app?host=&port=', 'postgres://db1:5433/app'],
    ['postgres://u:pw@db1/app?port=6543', 'postgres://db1:6543/app'],
    ['postgres://u:pw@db1/app?host=::1', 'postgres://[::1]/app'],
    // A socket directory, percent-encoded as the host (as pg also reads it).
    ['postgres://u:pw@/app?host=/var/run/postgresql', 'postgres://%2Fvar%2Frun%2Fpostgresql/app'],
    ['postgres://u:pw@db1/app?host=/var/run/postgresql&port=5433', 'postgres://%2Fvar%2Frun%2Fpostgresql:5433/app'],
    // Without either key, or another scheme (node-redis reads no query key): as redactUrl.
    ['postgres://u:pw@db1:5432/app?sslmode=require', 'postgres://db1:5432/app'],
    ['redis://:pw@cache:6379/0?host=other&port=1', 'redis://cache:6379/0'],
  ])('%s -> %s', (url, shown) => {
    expect(redactPostgresUrl(url)).toBe(shown);
  });

  // A ?host= that is no socket directory, host name or IP address may be a mistyped credential or forge a log line:
  // not shown (nor the URL's own host, where pg does not connect); a port only as digits.
  it.each([
    ['postgres://u:pw@db1/app?host=admin%3AS3CRET%40db2', 'postgres://(address not shown)'],
    ['postgres://u:pw@db1/app?host=a%0Aforged:%20line', 'postgres://(address not shown)'],
    ['postgres://u:pw@db1/app?host=/run/a%0Aforged', 'postgres://(address not shown)'],
    ['postgres://u:pw@db1/app?host=/run/pg:S3CRET', 'postgres://(address not shown)'],
    // pg-connection-string strips brackets from the URL's own host only: it looks `[::1]` up by DNS, and fails.
    ['postgres://u:pw@db1/app?host=[::1]', 'postgres://(address not shown)'],
    ['postgres://u:pw@db1/app?host=[db2]', 'postgres://(address not shown)'],
    ['postgres://u:pw@db1/app?host=10.1.2.3&port=6543', 'postgres://10.1.2.3:6543/app'],
    ['postgres://u:pw@db1/app?host=db_2.example.com', 'postgres://db_2.example.com/app'],
    ['postgres://u:pw@db1:5432/app?password=Ab12&port=Cd34', 'postgres://db1/app'],
    ['postgres://u:pw@db1/app?host=db2&port=5432%0Aforged', 'postgres://db2/app'],
  ])('a ?host= or ?port= not shown as it is: %s -> %s', (url, shown) => {
    expect(redactPostgresUrl(url)).toBe(shown);
  });

  it('a URL whose address is not sure: as redactUrl, its query\'s host never shown', () => {
    const url = 'postgres://u:1?host=PIECE-S3CRET&application_name=x@db/app';
    expect(redactPostgresUrl(url)).toBe(`postgres://${ADDRESS_NOT_SHOWN}`);
  });
});

describe('postgresTarget: where pg connects, as it may be shown', () => {
  it.each([
    ['postgres://u:pw@db1:5433/app', { host: 'db1', port: '5433' }],
    ['postgres://u:pw@db1/app?host=db2&port=6543', { host: 'db2', port: '6543' }],
    ['postgres://u:pw@db1:5433/app?host=db2&host=&port=6000&port=', { host: 'db1', port: '5433' }],
    ['postgres:///app?host=/var/run/postgresql', { host: '/var/run/postgresql', port: '' }],
    ['postgresql://%2Fvar%2Frun%2Fpostgresql/db', { host: '/var/run/postgresql', port: '' }],
    ['postgres://u:pw@[::1]:5433/app', { host: '::1', port: '5433' }],
    // A bracketed ?host= is not an address pg reaches (it does not strip the brackets there): not shown.
    ['postgres://u:pw@db1/app?host=[::1]', { host: undefined, port: '' }],
    ['postgres://u:pw@/app', { host: '', port: '' }],
    // Not to be shown: a credential's look, a newline, a socket path with an '@' (decoded from the URL's own host).
    ['postgres://u:pw@db1/app?host=admin%3AS3CRET%40db2', { host: undefined, port: '' }],
    // pg strips an own host's brackets before decoding it: an encoded one stays bracketed, looked up by DNS.
    ['postgres://u:pw@%5B%3A%3A1%5D:5433/app', { host: undefined, port: '5433' }],
    ['postgres://u:pw@[::1]:5433/app', { host: '::1', port: '5433' }],
    ['postgres://u:pw@db1/app?host=a%0Aforged&port=Cd34', { host: undefined, port: 'Cd34' }],
    ['postgres://u:pw@%2Fvar%2FS3%40CR/app', { host: undefined, port: '' }],
  ])('%s', (url, target) => {
    expect(postgresTarget(url)).toEqual(target);
  });

  it('undefined for a URL whose address is not sure, or of another scheme', () => {
    expect(postgresTarget('postgres://u:1?host=PIECE-S3CRET&application_name=x@db/app')).toBeUndefined();
    expect(postgresTarget('redis://cache:6379/0?host=db2')).toBeUndefined();
    expect(postgresTarget('host=db password=S3CRET')).toBeUndefined();
  });
});

describe('hideClientError: the kind of an error whose name is plain "Error"', () => {
  it("its class's name (node-redis's errors keep the name Error); none for a plain Error", () => {
    class ConnectionTimeoutError extends Error {}
    expect(hideClientError(new ConnectionTimeoutError('connect to PIECE-S3CRET timed out')).message).toBe(`${CLIENT_ERROR_HIDDEN} (ConnectionTimeoutError)`);
    expect(hideClientError(new Error('connect to PIECE-S3CRET failed')).message).toBe(`${CLIENT_ERROR_HIDDEN} (unknown kind)`);
  });
});
