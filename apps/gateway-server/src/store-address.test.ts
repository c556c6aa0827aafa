import { describe, expect, it } from 'vitest';
import { ADDRESS_NOT_SHOWN } from '@llmrr/core';
import { storeAddress } from './store-address.js';

describe('storeAddress', () => {
  it('host:port of a store URL, the default port when it has none, never its credentials', () => {
    expect(storeAddress('redis://:SECRET@cache.internal/0', 6379)).toBe('cache.internal:6379');
    expect(storeAddress('rediss://u:SECRET@10.0.0.5:6380', 6379)).toBe('10.0.0.5:6380');
    expect(storeAddress('redis://[::1]:7000', 6379)).toBe('[::1]:7000');
    expect(storeAddress('postgres://llmrr:SECRET@db:5433/llmrr?sslmode=require&password=SECRET', 5432)).toBe('db:5433');
    expect(storeAddress('postgresql://llmrr@db.example.com/llmrr', 5432)).toBe('db.example.com:5432');
  });

  it('a socket: its path (Redis unix://, PostgreSQL ?host= or a leading directory)', () => {
    expect(storeAddress('unix://:SECRET@/run/redis/redis.sock?db=2', 6379)).toBe('/run/redis/redis.sock');
    expect(storeAddress('postgres://llmrr:SECRET@/llmrr?host=/var/run/postgresql', 5432)).toBe('/var/run/postgresql');
    expect(storeAddress('/var/run/postgresql llmrr', 5432)).toBe('/var/run/postgresql');
    // A host that is a percent-encoded directory: pg decodes it and connects to the socket there.
    expect(storeAddress('postgresql://%2Fvar%2Frun%2Fpostgresql/db', 5432)).toBe('/var/run/postgresql');
    expect(storeAddress('postgres://llmrr:SECRET@%2ftmp%2Fpg:5433/db', 5432)).toBe('/tmp/pg');
  });

  it('a password with an unescaped "/", "?" or "#" (read as host and port): the URL redacted, no part of the user info', () => {
    // Redis's ACL user "default" with a generated password "4821/SECRET" parses as host "default", port 4821.
    expect(storeAddress('redis://default:4821/SECRET@cache.internal:6379', 6379)).toBe('redis://cache.internal:6379');
    expect(storeAddress('postgres://llmrr:4821/SECRET@db.internal:5432/app', 5432)).toBe('postgres://db.internal:5432/app');
    // An unescaped "?" or "#": the "@" after it leaves the host unknown, so only the scheme is shown.
    expect(storeAddress('redis://default:4821?SECRET@cache.internal:6379', 6379)).toBe(`redis://${ADDRESS_NOT_SHOWN}`);
    expect(storeAddress('redis://default:4821#SECRET@cache.internal:6379', 6379)).toBe(`redis://${ADDRESS_NOT_SHOWN}`);
    // An empty host: the socket forms still read.
    expect(storeAddress('unix:///run/redis/redis.sock', 6379)).toBe('/run/redis/redis.sock');
    expect(storeAddress('postgres:///llmrr?host=/var/run/postgresql', 5432)).toBe('/var/run/postgresql');
  });

  it('a raw "@" in the query (?application_name=svc@prod, or a password\'s rest): the address not shown; written %40, host:port or the socket', () => {
    for (const url of [
      'redis://:S3CRET@cache/0?client_name=svc@prod',
      'postgres://u:pw@db:5432/app?application_name=svc@prod',
      'unix://:S3CRET@/run/redis/redis.sock?db=2&client_name=svc@prod',
      'redis://cache:6379/0?client_name=svc@prod&password=S3CRET',
      // No user info read: user "user", password "1234?client_name=S3CRET" read as host "user", port 1234.
      'redis://user:1234?client_name=S3CRET@cache',
      'postgres://u:1?application_name=x@db/app',
    ]) {
      expect(storeAddress(url, 6379), url).toBe(`${url.slice(0, url.indexOf('://'))}://${ADDRESS_NOT_SHOWN}`);
    }
    expect(storeAddress('redis://:S3CRET@cache/0?client_name=svc%40prod', 6379)).toBe('cache:6379');
    expect(storeAddress('redis://cache:6379/0?client_name=svc%40prod', 6379)).toBe('cache:6379');
    expect(storeAddress('postgres://u:pw@db:5432/app?application_name=svc%40prod', 5432)).toBe('db:5432');
    expect(storeAddress('unix://:S3CRET@/run/redis/redis.sock?db=2&client_name=svc%40prod', 6379)).toBe('/run/redis/redis.sock');
    expect(storeAddress('postgres://u:pw@db1/app?host=db2&application_name=svc%40prod', 5432)).toBe('db2:5432');
  });

  // A password with an "@" before its first "?" or "/" and a name key after: read as user info before that "@", the
  // host, port, path (or pg's ?user=) pieces of the password.
  it.each([
    'redis://user:AB@SECRETHOST?client_name=EF@cache',
    'postgres://u:p@SECRETHOST?application_name=x@db/app',
    'redis://default:Q7@127.0.0.1:6379/SECRETPATH?client_name=EF@cache',
    'postgres://app:H8@/SECRETDB?application_name=CBKC@db/app',
    'postgres://u:Q7@db/app?user=SECRETUSER&application_name=EF@db',
    'redis://:@SECRETHOST?options=x@pg',
  ])('a password with an "@" and then a name key (%s): the address not shown', (url) => {
    expect(storeAddress(url, 6379)).toBe(`${url.slice(0, url.indexOf('://'))}://${ADDRESS_NOT_SHOWN}`);
  });

  it('user info with an unescaped "@" and then "/", "?" or "#": never a piece of the password as host, path or socket, never empty', () => {
    expect(storeAddress('redis://default:S3@CR/ET@cache:6379', 6379)).toBe('redis://cache:6379');
    expect(storeAddress('postgres://u:p@ss/w@rd@db:5432/app', 5432)).toBe('postgres://db:5432/app');
    expect(storeAddress('unix://u:S3@CR/ET@/run/redis.sock', 6379)).toBe('unix:///run/redis.sock');
    expect(storeAddress('redis://default:S3@CR?ET@cache', 6379)).toBe(`redis://${ADDRESS_NOT_SHOWN}`);
    expect(storeAddress('redis://default:S3@CR#ET@cache', 6379)).toBe(`redis://${ADDRESS_NOT_SHOWN}`);
    expect(storeAddress('unix://:S3@CR?ET@/run/redis.sock', 6379)).toBe(`unix://${ADDRESS_NOT_SHOWN}`);
    expect(storeAddress('postgres://db/app?application_name=svc@prod#x@y', 5432)).toBe(`postgres://${ADDRESS_NOT_SHOWN}`);
    // A socket directory with an "@" is not shown; neither is an empty socket path.
    expect(storeAddress('postgres://u:pw@/app?host=/var/S3@CR', 5432)).toBe(`postgres://${ADDRESS_NOT_SHOWN}`);
    expect(storeAddress('postgres://u:pw@%2Fvar%2FS3%40CR/app', 5432)).toBe('postgres://%2Fvar%2FS3%40CR/app');
    expect(storeAddress('unix://cache', 6379)).not.toBe('');
  });

  it('an "@" in a key=value value of the query or fragment: the address not shown', () => {
    expect(storeAddress('redis://default:S3@CR/0?k=XYZ@cache:6379', 6379)).toBe(`redis://${ADDRESS_NOT_SHOWN}`);
    expect(storeAddress('postgres://app:S3@CR/app?k=X@db:5432/app', 5432)).toBe(`postgres://${ADDRESS_NOT_SHOWN}`);
    expect(storeAddress('redis://default:4821/0?k=S3CRET@cache', 6379)).toBe(`redis://${ADDRESS_NOT_SHOWN}`);
    expect(storeAddress('postgres://db/app?application_name=svc@prod#x=y@z', 5432)).toBe(`postgres://${ADDRESS_NOT_SHOWN}`);
  });

  it("PostgreSQL's ?host= and ?port=, which pg reads over the URL's own host and port (the last of each; an empty last one leaves the URL's own); not Redis's", () => {
    expect(storeAddress('postgres://u:pw@db1:5432/app?host=db2', 5432)).toBe('db2:5432');
    expect(storeAddress('postgres://u:pw@db1/app?port=6543', 5432)).toBe('db1:6543');
    expect(storeAddress('postgresql://u:pw@db1:5432/app?sslmode=require&host=db2&port=6543', 5432)).toBe('db2:6543');
    expect(storeAddress('postgres://u:pw@/app?host=db2&port=6543', 5432)).toBe('db2:6543');
    expect(storeAddress('postgres:///app?host=10.0.0.7', 5432)).toBe('10.0.0.7:5432');
    expect(storeAddress('postgres://u:pw@db1/app?host=::1', 5432)).toBe('[::1]:5432');
    expect(storeAddress('postgres://u:pw@db1/app?host=db2&host=db3&port=1&port=6000', 5432)).toBe('db3:6000');
    expect(storeAddress('postgres://u:pw@db1:5433/app?host=&port=', 5432)).toBe('db1:5433');
    // pg keeps the last value, empty or not: an empty last one falls back to the URL's host, not to an earlier value.
    expect(storeAddress('postgres://u:pw@db1:5433/app?host=db2&host=&port=6000&port=', 5432)).toBe('db1:5433');
    expect(storeAddress('postgres://u:pw@db1/app?host=/var/run/postgresql&port=5433', 5432)).toBe('/var/run/postgresql');
    // ?host= or ?port= with an "@" in the query: the query may be the rest of a password with an unescaped "?"
    // ("1?host=S3CRET&application_name=x", "p@ss?host=S3CRET&application_name=x"): the address is not shown.
    for (const url of [
      'postgres://u:1?host=S3CRET&application_name=x@db/app',
      'postgres://u:p@ss?host=S3CRET&application_name=x@db/app',
      'postgres://u:p@ss?port=4821&application_name=x@db/app',
      'postgres://u:pw@db1/app?host=db2&application_name=svc@prod',
      'postgres://u:pw@/app?application_name=svc@prod&host=/var/run/postgresql',
    ]) {
      expect(storeAddress(url, 5432), url).toBe(`postgres://${ADDRESS_NOT_SHOWN}`);
    }
    // node-redis reads no query key: the URL's own host and port.
    expect(storeAddress('redis://cache:6379/0?host=other&port=1', 6379)).toBe('cache:6379');
    expect(storeAddress('redis://cache/0?host=/tmp/redis.sock', 6379)).toBe('cache:6379');
  });

  // Read by core's postgresTarget: a ?host= that is no socket directory, host name or IP address may be a mistyped
  // credential or forge a line of a log; a port that is not digits is left out (pg refuses it).
  it("PostgreSQL's ?host= shown only as a socket directory, a host name or an IP address, a port only as digits", () => {
    expect(storeAddress('postgres://u:pw@db1/app?host=a%0Aforged:%20line', 5432)).toBe('postgres://(address not shown)');
    expect(storeAddress('postgres://u:pw@db1/app?host=admin%3AS3CRET%40db2', 5432)).toBe('postgres://(address not shown)');
    expect(storeAddress('postgres://u:pw@db1/app?host=/run/a%0Aforged', 5432)).toBe('postgres://(address not shown)');
    // pg-connection-string strips brackets from the URL's own host only: a bracketed ?host= is looked up by DNS.
    expect(storeAddress('postgres://u:pw@db1/app?host=[::1]&port=6543', 5432)).toBe('postgres://(address not shown)');
    expect(storeAddress('postgres://u:pw@[::1]:6543/app', 5432)).toBe('[::1]:6543');
    expect(storeAddress('postgres://u:pw@db1:5432/app?password=Ab12&port=Cd34', 5432)).toBe('db1');
  });

  it('a string that is not a URL is not shown', () => {
    expect(storeAddress('host=db password=SECRET', 5432)).not.toContain('SECRET');
  });
});
