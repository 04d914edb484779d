import { connect as connectTcp, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export type TcpProxyOptions = {
  readonly targetHost: string;
  readonly targetPort: number;
};

/** A TCP proxy on 127.0.0.1 that fault tests use to simulate a broker outage. */
export type TcpProxy = {
  /** Port the proxy listens on. */
  readonly port: number;
  /** Resets every open connection, and resets each new one at once until `restore()`. */
  cut(): void;
  /**
   * Stops forwarding on every connection, open or new, until `restore()`. The sockets stay open,
   * so peers see silence rather than a close. The bytes held back are forwarded on `restore()`.
   */
  stall(): void;
  /** Forwards connections again. Connections reset by `cut()` stay closed. */
  restore(): void;
  close(): Promise<void>;
};

type Mode = 'forward' | 'cut' | 'stall';

type ConnectionPair = {
  readonly client: Socket;
  readonly upstream: Socket;
};

/** Starts a proxy listening on 127.0.0.1 with an ephemeral port. */
export async function startTcpProxy({ targetHost, targetPort }: TcpProxyOptions): Promise<TcpProxy> {
  const pairs = new Set<ConnectionPair>();
  let mode: Mode = 'forward';

  const server = createServer((client) => {
    // Resets are the point of this proxy, and the 'close' handlers below clean up after them.
    client.on('error', () => undefined);
    if (mode === 'cut') {
      client.resetAndDestroy();
      return;
    }

    const upstream = connectTcp({ host: targetHost, port: targetPort });
    upstream.on('error', () => undefined);
    const pair: ConnectionPair = { client, upstream };
    pairs.add(pair);

    const teardown = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.once('close', teardown);
    upstream.once('close', teardown);

    if (mode === 'stall') {
      client.pause();
      upstream.pause();
    } else {
      forward(pair);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const resetAll = (): void => {
    for (const { client, upstream } of pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
  };

  return {
    port,
    cut() {
      mode = 'cut';
      resetAll();
    },
    stall() {
      mode = 'stall';
      for (const pair of pairs) {
        hold(pair);
      }
    },
    restore() {
      const wasStalled = mode === 'stall';
      mode = 'forward';
      if (wasStalled) {
        for (const pair of pairs) {
          forward(pair);
        }
      }
    },
    async close() {
      mode = 'cut';
      resetAll();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      });
    },
  };
}

function forward({ client, upstream }: ConnectionPair): void {
  // pipe() resumes a paused source, which releases whatever hold() kept in the buffers.
  client.pipe(upstream);
  upstream.pipe(client);
}

function hold({ client, upstream }: ConnectionPair): void {
  client.unpipe(upstream);
  upstream.unpipe(client);
  client.pause();
  upstream.pause();
}
