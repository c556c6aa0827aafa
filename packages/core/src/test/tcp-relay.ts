import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP relay to a server (Redis, PostgreSQL, a provider), for tests of what a slow or partitioned
 * network does: every connection to `port` is passed on to `target`, byte for byte, until the test says
 * otherwise.
 */
export interface TcpRelay {
  /** The relay's port on 127.0.0.1. */
  readonly port: number;
  /** How many connections it has taken so far (the next one is numbered this, for `stall(connection)`). */
  readonly opened: number;
  /**
   * Answers of the target are buffered from now on (the commands still run); `flush()` delivers them. Given
   * `connection` (numbered as for `stall`), only that one's: the others, and new ones, still pass.
   */
  hold(connection?: number): void;
  /** Delivers the buffered answers in order and passes later ones through again. */
  flush(): void;
  /**
   * Stops passing bytes either way, keeping every connection open (a partition, a stalled server); given
   * `connection`, only on that one (numbered from 0 in the order they were opened: a middlebox that dropped it).
   */
  stall(connection?: number): void;
  /**
   * Destroys every open connection (clients see it reset: a failover, a restart, a middlebox dropping it), with the
   * answers held back; new connections pass bytes either way again (no longer stalled or held).
   */
  reset(): void;
  /** Destroys every connection (clients see the connection drop) and stops listening. */
  close(): Promise<void>;
}

/** Options of `startTcpRelay`. */
export interface TcpRelayOptions {
  /**
   * Sees each chunk a client sends, before it is passed on (`connection` numbered as for `stall`): a test can `hold`
   * or `stall` that connection the moment a given command goes out (its answer then held back or lost).
   */
  onClientData?: (connection: number, data: Buffer) => void;
}

/** Starts a relay on a free port of 127.0.0.1 to `target`. */
export async function startTcpRelay(target: { host: string; port: number }, options: TcpRelayOptions = {}): Promise<TcpRelay> {
  const { onClientData } = options;
  let holding = false;
  let stalled = false;
  const held: Array<{ to: Socket; data: Buffer }> = [];
  const sockets = new Set<Socket>();
  const opened: Array<{ stalled: boolean; holding: boolean }> = [];
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.host, port: target.port });
    const one = { stalled: false, holding: false };
    const connection = opened.push(one) - 1;
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => {
      onClientData?.(connection, d);
      if (!stalled && !one.stalled) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (stalled || one.stalled) return;
      if (holding || one.holding) held.push({ to: client, data: d });
      else client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get opened() {
      return opened.length;
    },
    hold: (connection) => {
      if (connection === undefined) holding = true;
      else if (opened[connection]) opened[connection].holding = true;
      else throw new Error(`no connection #${connection} (${opened.length} opened)`);
    },
    flush: () => {
      holding = false;
      for (const one of opened) one.holding = false;
      for (const h of held.splice(0)) h.to.write(h.data);
    },
    stall: (connection) => {
      if (connection === undefined) stalled = true;
      else if (opened[connection]) opened[connection].stalled = true;
      else throw new Error(`no connection #${connection} (${opened.length} opened)`);
    },
    reset: () => {
      stalled = false;
      holding = false;
      held.length = 0;
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
