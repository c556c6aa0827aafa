/**
 * What the stores' connect and call errors say, against real peers: PostgreSQL's start-up error names where pg
 * connects (the query's `?host=` and `?port=`); a Redis error reply after the connect, for a URL whose address is not
 * sure, is shown by its first word only (its text names the user); a first connect that runs out of time says whether
 * a TCP connection was made, and after how long.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LLMError } from '../errors/llm-error.js';
import { isAddressSure } from '../util/redact-url.js';
import { freePort } from './__fixtures__/free-port.js';
import { startSocketRedis, type SocketRedis } from './__fixtures__/socket-redis.js';
import { openPostgres } from './postgres/postgres-database.js';
import { bounded, connectRedis, isErrorReply, REPLY_TEXT_HIDDEN } from './redis/redis-connection.js';

async function errorOf(p: Promise<unknown>): Promise<LLMError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  if (!LLMError.isInstance(e)) throw new Error(`expected LLMError, got ${String(e)}`);
  return e;
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
});

/** A loopback port nothing listens on: a connect to it is refused, and the client says where it tried. */
let refusedPort = 0;
beforeAll(async () => {
  refusedPort = await freePort();
});

describe("PostgreSQL's start-up error names where pg connects", () => {
  it('the query\'s ?host= and ?port=, which pg reads over the URL\'s own host and port', { timeout: 60_000 }, async () => {
    const e = await errorOf(openPostgres(`postgres://app:S3CRET@db.invalid:5432/app?host=127.0.0.1&port=${refusedPort}&sslmode=disable`));
    expect(e.code).toBe('engine_unavailable');
    expect(e.message).toMatch(new RegExp(`^Cannot prepare PostgreSQL at postgres://127\\.0\\.0\\.1:${refusedPort}/app: .*ECONNREFUSED`));
    expect(e.message).not.toContain('db.invalid');
    expect(inspect(e, { depth: 8 })).not.toContain('S3CRET');
  });
});

describe('PostgreSQL: a port pg cannot connect to is refused at once', () => {
  // pg reads the port with parseInt; its socket's connect then throws where nothing catches it, and the start waited
  // for ever (over a minute, checked) instead of failing.
  it.each([
    ['postgres://app:S3CRET@127.0.0.1:5432/app?port=99999&sslmode=disable', 'postgres://127.0.0.1:99999/app: its port "99999" (?port=)'],
    ['postgres://app:S3CRET@127.0.0.1:5432/app?password=Ab12&port=Cd34', 'postgres://127.0.0.1/app: its port "Cd34" (?port=)'],
    ['postgres://app:S3CRET@127.0.0.1:0/app', "postgres://127.0.0.1:0/app: its port \"0\" (the URL's)"],
    // An address not surely read: the port's text is not shown (it may be a piece of the password).
    ['postgres://app:1?host=127.0.0.1&port=Cd34&application_name=x@db/app', 'postgres://(address not shown): its port (?port=)'],
  ])('%s', { timeout: 30_000 }, async (url, named) => {
    const e = await errorOf(openPostgres(url));
    expect({ code: e.code, message: e.message }).toEqual({ code: 'config_invalid', message: `Cannot prepare PostgreSQL at ${named} is not a number from 1 to 65535` });
    expect(inspect(e, { depth: 8 })).not.toContain('S3CRET');
  });
});

describe("PostgreSQL: a port out of range in the URL's own host:port, which WHATWG URL (and so pg) refuses", () => {
  // The URL does not parse (a port past 65535), so the port was never checked: the start said engine_unavailable,
  // ERR_INVALID_URL, "give a URL whose user info has '/', '?', '#' and '@' percent-encoded", about a port.
  it.each([
    ['postgres://u:S3CRET@127.0.0.1:99999/db', 'postgres://127.0.0.1:99999/db: its port "99999" (the URL\'s)'],
    ['postgresql://u:S3CRET@db.example.com:123456/db?sslmode=disable', 'postgresql://db.example.com:123456/db: its port "123456" (the URL\'s)'],
  ])('%s', { timeout: 30_000 }, async (url, named) => {
    const e = await errorOf(openPostgres(url));
    expect({ code: e.code, message: e.message }).toEqual({ code: 'config_invalid', message: `Cannot prepare PostgreSQL at ${named} is not a number from 1 to 65535` });
    expect(inspect(e, { depth: 8 })).not.toContain('S3CRET');
  });

  // A password with an unescaped '/' ends the authority early: what reads as the port may be a piece of it.
  it('user info that may hold the port text: the port is not named', { timeout: 30_000 }, async () => {
    const e = await errorOf(openPostgres('postgres://u:987654/S3CRET@db.example.com/db'));
    expect(e.code).toBe('config_invalid');
    expect(e.message).toMatch(/^Cannot prepare PostgreSQL at postgres:\/\/db\.example\.com\/db: its port \(the URL's\) is not a number from 1 to 65535 \(as pg reads the URL; if that is a piece of the password, give a URL whose user info has '\/'/);
    expect(inspect(e, { depth: 8 })).not.toMatch(/987654|S3CRET/);
  });
});

describe('PostgreSQL: PGPORT, which pg reads when the URL has no port', () => {
  // pg's Pool read PGPORT=99999 and its socket threw ERR_SOCKET_BAD_PORT where nothing catches it: the process crashed.
  it.each([['99999'], ['0'], ['5432abc']])('PGPORT=%s is refused at once', { timeout: 30_000 }, async (port) => {
    const before = process.env.PGPORT;
    process.env.PGPORT = port;
    try {
      const e = await errorOf(openPostgres('postgres://u:S3CRET@127.0.0.1/db?sslmode=disable'));
      expect({ code: e.code, message: e.message }).toEqual({ code: 'config_invalid', message: `Cannot prepare PostgreSQL at postgres://127.0.0.1/db: its port "${port}" (PGPORT) is not a number from 1 to 65535` });
    } finally {
      if (before === undefined) delete process.env.PGPORT;
      else process.env.PGPORT = before;
    }
  });

  // pg reads it with parseInt, which skips the spaces around it: a PGPORT of " <port> " is that port, not refused.
  it('PGPORT with spaces around a usable port is that port', { timeout: 60_000 }, async () => {
    const before = process.env.PGPORT;
    process.env.PGPORT = ` ${refusedPort} `;
    try {
      const e = await errorOf(openPostgres('postgres://u:S3CRET@127.0.0.1/db?sslmode=disable'));
      expect(e.code).toBe('engine_unavailable');
      expect(e.message).toContain(`ECONNREFUSED 127.0.0.1:${refusedPort}`);
    } finally {
      if (before === undefined) delete process.env.PGPORT;
      else process.env.PGPORT = before;
    }
  });

  it('PGPORT is not read when the URL has a port: the URL\'s is used', { timeout: 60_000 }, async () => {
    const before = process.env.PGPORT;
    process.env.PGPORT = '99999';
    try {
      const e = await errorOf(openPostgres(`postgres://u:S3CRET@127.0.0.1:${refusedPort}/db?sslmode=disable`));
      expect(e.code).toBe('engine_unavailable');
      expect(e.message).toMatch(/ECONNREFUSED/);
    } finally {
      if (before === undefined) delete process.env.PGPORT;
      else process.env.PGPORT = before;
    }
  });
});

describe('Redis: an error reply after the connect', () => {
  let redis: SocketRedis;
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
    // A Redis of the test's own (its ACL changes), on TCP too: `--port` given again overrides the fixture's `--port 0`.
    redis = await startSocketRedis('noperm', ['--port', String(port), '--bind', '127.0.0.1']);
    const admin = (await connectRedis(redis.url, '')).retain();
    try {
      await admin.command(['ACL', 'SETUSER', 'PIECE-OF-S3CRET', 'on', '>pw', '~*', '+ping', '+hello', '+select', '+client']);
      await admin.command(['ACL', 'SETUSER', 'SCRIPTS-OF-S3CRET', 'on', '>pw', '~*', '+@all', '-set']);
    } finally {
      await admin.release();
    }
    return () => redis.stop();
  });

  async function replyErrors(url: string): Promise<unknown[]> {
    const handle = (await connectRedis(url, 'noperm:')).retain();
    cleanup.push(() => handle.release());
    expect(await bounded(handle.command(['PING']), 5_000, 'PING')).toBe('PONG');
    const refused = (p: Promise<unknown>) => p.then(() => undefined, (x: unknown) => x);
    return [await refused(handle.command(['SET', 'k', 'v'])), await refused(handle.eval({ sha: '0'.repeat(40), source: 'return 1' }, [], []))];
  }

  // The reply's text after its first word may name the user (Redis 7.2 and later: "NOPERM User <name> has no
  // permissions..."), a piece of the password in such a URL.
  it('an address not surely read: the reply\'s first word only, still an error reply', { timeout: 60_000 }, async () => {
    const url = `redis://PIECE-OF-S3CRET:pw@127.0.0.1:${port}/0?k=x@cache.invalid`;
    expect(isAddressSure(url)).toBe(false);
    for (const e of await replyErrors(url)) {
      expect(isErrorReply(e)).toBe(true);
      expect((e as Error).message).toBe(`NOPERM (${REPLY_TEXT_HIDDEN})`);
      const wrapped = await errorOf(bounded(Promise.reject(e), 5_000, 'cache store'));
      expect(inspect(wrapped, { depth: 8 })).not.toContain('PIECE-OF-S3CRET');
    }
  });

  // Only a reply that may name the user loses its text: a script's error or WRONGTYPE says what went wrong.
  it('an address not surely read: any other reply keeps its text; one about the user inside a script\'s error does not', { timeout: 60_000 }, async () => {
    const url = `redis://SCRIPTS-OF-S3CRET:pw@127.0.0.1:${port}/0?k=x@cache.invalid`;
    const handle = (await connectRedis(url, 'noperm:')).retain();
    cleanup.push(() => handle.release());
    const refused = (p: Promise<unknown>) => p.then(() => undefined, (x: unknown) => x as Error);
    await handle.command(['DEL', 'noperm:str']);
    await handle.command(['APPEND', 'noperm:str', 'text']);
    const wrongType = await refused(handle.command(['LPUSH', 'noperm:str', 'x']));
    expect(wrongType?.message).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    const script = await refused(handle.eval({ sha: '1'.repeat(40), source: "return redis.call('INCR', KEYS[1])" }, ['noperm:str'], []));
    expect(isErrorReply(script)).toBe(true);
    expect(script?.message).toMatch(/^ERR value is not an integer or out of range/);
    // Lua's own words: "userdata" is a kind of value, not a user.
    const userdata = await refused(handle.eval({ sha: '3'.repeat(40), source: 'return #cjson.null' }, [], []));
    expect(isErrorReply(userdata)).toBe(true);
    expect(userdata?.message).toMatch(/^ERR user_script:1: attempt to get length of field 'null' \(a userdata value\)/);
    // A script's refused command (SET): Redis 7.0 says "The user executing the script can't run this command", 7.2
    // and later "NOPERM User SCRIPTS-OF-S3CRET has no permissions to run the 'set' command".
    const denied = await refused(handle.eval({ sha: '2'.repeat(40), source: "return redis.call('SET', KEYS[1], 'v')" }, ['noperm:other'], []));
    expect(isErrorReply(denied)).toBe(true);
    expect([`ERR (${REPLY_TEXT_HIDDEN})`, `NOPERM (${REPLY_TEXT_HIDDEN})`]).toContain(denied?.message);
    expect(inspect(denied, { depth: 8 })).not.toContain('SCRIPTS-OF-S3CRET');
  });

  it('an address surely read keeps Redis\'s reply', { timeout: 60_000 }, async () => {
    const [set] = await replyErrors(`redis://PIECE-OF-S3CRET:pw@127.0.0.1:${port}/0`);
    expect(isErrorReply(set)).toBe(true);
    // (Redis 7.0 says "this user has no permissions ..."; 7.2 and later name the user.)
    expect((set as Error).message).toMatch(/^NOPERM .*no permissions to run the 'set' command/);
  });
});

/**
 * A loopback server speaking Redis's wire protocol (RESP2) that answers `XERR <text>` with the error reply `-<text>`,
 * `PING` with `PONG` and anything else (the client's handshake) with `OK`: error replies of other wordings than
 * Redis's own (another server's, a module's).
 */
async function startWordingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    let buffered = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const request = readRequest(buffered);
        if (!request) return;
        buffered = buffered.subarray(request.used);
        const [name = '', text = ''] = request.args;
        s.write(name.toUpperCase() === 'XERR' ? `-${text}\r\n` : name.toUpperCase() === 'PING' ? '+PONG\r\n' : '+OK\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

/** One RESP request (`*n` then `$len` bulk strings) at the start of `b`, and the bytes it took; undefined if incomplete. */
function readRequest(b: Buffer): { args: string[]; used: number } | undefined {
  const line = (at: number) => {
    const end = b.indexOf('\r\n', at);
    return end === -1 ? undefined : { text: b.subarray(at, end).toString(), next: end + 2 };
  };
  const head = line(0);
  if (!head) return undefined;
  let at = head.next;
  const args: string[] = [];
  for (let i = 0; i < Number(head.text.slice(1)); i++) {
    const len = line(at);
    if (!len) return undefined;
    const n = Number(len.text.slice(1));
    if (b.length < len.next + n + 2) return undefined;
    args.push(b.subarray(len.next, len.next + n).toString());
    at = len.next + n + 2;
  }
  return { args, used: at };
}

describe('Redis: error replies of other wordings, over a URL whose address is not sure', () => {
  // It hid only the words NOPERM, WRONGPASS, NOAUTH and "user": "username", "users" and "AUTH failed for <name>" kept
  // their text, a piece of the password in such a URL.
  it.each([
    ['ERR AUTH failed for PIECE-OF-S3CRET', 'ERR'],
    ['ERR no such username PIECE-OF-S3CRET', 'ERR'],
    ['ERR users PIECE-OF-S3CRET may not run this', 'ERR'],
    ['ERR authentication of PIECE-OF-S3CRET refused', 'ERR'],
    ['ERR the ACL of PIECE-OF-S3CRET refuses it', 'ERR'],
    ['WRONGPASSWORD PIECE-OF-S3CRET', 'WRONGPASSWORD'],
    ['ERR invalid password for PIECE-OF-S3CRET', 'ERR'],
    // Words for the user other than "user", "username" and "users" (they passed).
    ['ERR no such user_id PIECE-OF-S3CRET', 'ERR'],
    ['ERR userId PIECE-OF-S3CRET is disabled', 'ERR'],
    ['ERR user_name PIECE-OF-S3CRET is disabled', 'ERR'],
    ['ERR account PIECE-OF-S3CRET is locked', 'ERR'],
    ['ERR login PIECE-OF-S3CRET refused', 'ERR'],
    ['ERR PIECE-OF-S3CRET logged in elsewhere', 'ERR'],
    ['ERR PIECE-OF-S3CRET may not log in now', 'ERR'],
    ['ERR principal PIECE-OF-S3CRET lacks the role', 'ERR'],
    ['ERR bad credentials for PIECE-OF-S3CRET', 'ERR'],
    ['ERR identity PIECE-OF-S3CRET not known', 'ERR'],
    // Joined to another word by "_" or a change of case, in the plural, or other words of a refusal (they passed).
    ['ERR acl_user PIECE-OF-S3CRET is off', 'ERR'],
    ['ERR bad_user PIECE-OF-S3CRET', 'ERR'],
    ['ERR badUser PIECE-OF-S3CRET', 'ERR'],
    ['ERR superuser PIECE-OF-S3CRET required', 'ERR'],
    ['ERR the ACLs of PIECE-OF-S3CRET refuse it', 'ERR'],
    ['ERR aclDeny PIECE-OF-S3CRET', 'ERR'],
    ['ERR bad_auth for PIECE-OF-S3CRET', 'ERR'],
    ['ERR oauth token of PIECE-OF-S3CRET expired', 'ERR'],
    ['ERR access denied for PIECE-OF-S3CRET', 'ERR'],
    ['ERR accessDenied PIECE-OF-S3CRET', 'ERR'],
    ['Unauthorized: PIECE-OF-S3CRET', 'error reply'],
    ['ERR Unauthorised PIECE-OF-S3CRET', 'ERR'],
    ['ERR Forbidden: PIECE-OF-S3CRET', 'ERR'],
    ['ERR sign-in failed for PIECE-OF-S3CRET', 'ERR'],
    ['ERR PIECE-OF-S3CRET signed in elsewhere', 'ERR'],
    ['ERR PIECE-OF-S3CRET is logging in elsewhere', 'ERR'],
    ['ERR badLogin PIECE-OF-S3CRET', 'ERR'],
    ['ERR myAccount PIECE-OF-S3CRET is locked', 'ERR'],
  ])('%s: its first word only', { timeout: 60_000 }, async (text, kind) => {
    const server = await startWordingServer();
    cleanup.push(() => server.close());
    const handle = (await connectRedis(`redis://127.0.0.1:${server.port}/0?k=S3CRET@cache.invalid`, 'w:')).retain();
    cleanup.push(() => handle.release());
    const e = await handle.command(['XERR', text]).then(() => undefined, (x: unknown) => x as Error);
    expect(isErrorReply(e)).toBe(true);
    expect(e?.message).toBe(`${kind} (${REPLY_TEXT_HIDDEN})`);
    expect(inspect(e, { depth: 8 })).not.toContain('S3CRET');
  });

  // A script's error names its chunk `user_script` (Redis 7): that is not the word "user", and the text is kept.
  it.each([
    ["ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: 1f0c, on @user_script:1."],
    ['WRONGTYPE Operation against a key holding the wrong kind of value'],
    ['ERR value is not an integer or out of range script: 1f0c, on @user_script:1.'],
    // Not over-hidden: a function's chunk, and the replies a store meets (none names the user).
    ["ERR user_function:1: Script attempted to access nonexistent global variable 'x'"],
    ["OOM command not allowed when used memory > 'maxmemory'."],
    ['BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.'],
    ['NOSCRIPT No matching script. Please use EVAL.'],
    ["READONLY You can't write against a read only replica."],
    ['LOADING Redis is loading the dataset in memory'],
    ['EXECABORT Transaction discarded because of previous errors.'],
    ["ERR Number of keys can't be greater than number of args"],
    ['ERR the accounting of used memory is being reset'],
    // Lua's "userdata" (a kind of value) in a real script error.
    ["ERR user_script:1: attempt to get length of field 'null' (a userdata value) script: 68d5, on @user_script:1."],
    ["MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."],
    ["ERR Error running script (call to f_68d5): @user_script:1: @user_script: 1: Wrong number of args calling Redis command from script"],
    ['ERR Protocol error: invalid multibulk length'],
    ['NOTBUSY No scripts in execution right now.'],
    ['ERR unknown command \'XFOO\', with args beginning with: '],
    ['ERR syntax error'],
    ['ERR min or max is not a float'],
  ])('%s: kept', { timeout: 60_000 }, async (text) => {
    const server = await startWordingServer();
    cleanup.push(() => server.close());
    const handle = (await connectRedis(`redis://127.0.0.1:${server.port}/0?k=S3CRET@cache.invalid`, 'w:')).retain();
    cleanup.push(() => handle.release());
    const e = await handle.command(['XERR', text]).then(() => undefined, (x: unknown) => x as Error);
    expect(isErrorReply(e)).toBe(true);
    expect(e?.message).toBe(text);
  });
});

describe('Redis: a first connect that runs out of time says so, and after how long', () => {
  /**
   * A loopback port whose connection requests go unanswered: a server with a backlog of 1 (0 is taken as the default, 511), stopped (SIGSTOP) so it never
   * accepts, its queue filled; further SYNs are dropped, as by a firewall.
   */
  async function unansweredPort(): Promise<number> {
    const child: ChildProcess = spawn(process.execPath, ['-e', "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { process.stdout.write(this.address().port + '\\n') })"], { stdio: ['ignore', 'pipe', 'ignore'] });
    cleanup.push(async () => {
      child.kill('SIGCONT');
      child.kill();
    });
    // The port is the first line that is a number (the output may come in pieces, or after other lines; written as
    // text: `console.log` of a number is colored where FORCE_COLOR is set, as in CI, and read NaN).
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.once('exit', (code) => reject(new Error(`the listener exited (${code}) before printing its port: ${JSON.stringify(out)}`)));
      child.stdout!.on('data', (d: Buffer) => {
        out += String(d);
        const line = out.split('\n').find((l, i, all) => i < all.length - 1 && /^\d+$/.test(l.trim()));
        if (line !== undefined) resolve(Number(line.trim()));
      });
    });
    child.kill('SIGSTOP');
    for (let i = 0; i < 4; i++) {
      const s: Socket = connectTcp(port, '127.0.0.1');
      s.on('error', () => undefined);
      cleanup.push(async () => s.destroy());
    }
    return port;
  }

  it('no TCP connection made, for a URL whose address is shown and one whose address is not', { timeout: 60_000 }, async () => {
    const port = await unansweredPort();
    const [shown, hidden] = await Promise.all([errorOf(connectRedis(`redis://127.0.0.1:${port}/0`, 'p:')), errorOf(connectRedis(`redis://127.0.0.1:${port}/0?k=S3CRET@cache.invalid`, 'p:'))]);
    expect(shown.message).toBe(`Cannot connect to Redis at redis://127.0.0.1:${port}/0: timed out after 10000 ms: no TCP connection was made (a connection request goes unanswered for 5000 ms: a host that is down, or a firewall that drops it)`);
    expect(hidden.message).toBe('Cannot connect to Redis at redis://(address not shown): timed out after 10000 ms: no TCP connection was made (a connection request goes unanswered for 5000 ms: a host that is down, or a firewall that drops it)');
  });

  // Over TLS the client's `connect` comes after TLS's handshake: a server that takes the TCP connection and never
  // answers TLS made TCP connections, but no TLS one (it said "no TCP connection was made").
  it('rediss://: TCP connections taken, TLS handshake unanswered', { timeout: 60_000 }, async () => {
    const sockets = new Set<Socket>();
    let accepted = 0;
    const silent = createServer((s) => {
      accepted++;
      sockets.add(s);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanup.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    });
    const port = (silent.address() as { port: number }).port;
    const [shown, hidden] = await Promise.all([errorOf(connectRedis(`rediss://127.0.0.1:${port}/0`, 'p:')), errorOf(connectRedis(`rediss://127.0.0.1:${port}/0?k=S3CRET@cache.invalid`, 'p:'))]);
    expect(accepted).toBeGreaterThanOrEqual(2);
    const why = 'timed out after 10000 ms: no TLS connection was completed (a TCP connect or TLS handshake goes unanswered for 5000 ms: a host that is down, a firewall that drops it, or a server that does not speak TLS or is stalled)';
    expect(shown.message).toBe(`Cannot connect to Redis at rediss://127.0.0.1:${port}/0: ${why}`);
    expect(hidden.message).toBe(`Cannot connect to Redis at rediss://(address not shown): ${why}`);
  });

  it('a TCP connection made, no handshake answered', { timeout: 60_000 }, async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanup.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    });
    const port = (silent.address() as { port: number }).port;
    const e = await errorOf(connectRedis(`redis://127.0.0.1:${port}/0?k=S3CRET@cache.invalid`, 'p:'));
    expect(e.message).toBe('Cannot connect to Redis at redis://(address not shown): timed out after 10000 ms: a TCP connection was made, but no answer to the handshake came (what listens there may not be Redis, or is stalled)');
  });
});
