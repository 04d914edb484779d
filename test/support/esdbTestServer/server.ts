/**
 * A test server that speaks EventStoreDB's gRPC protocol (Streams and ServerFeatures) on
 * 127.0.0.1, so tests exercise the real `@eventstore/db-client` over real gRPC. Its data lives
 * in memory for the lifetime of the object, across stops and restarts.
 */
import { createAppendHandler } from './append';
import { createBatchAppendHandler } from './batchAppend';
import { createDeleteHandler, createTombstoneHandler } from './deletion';
import { EventLog } from './eventLog';
import type { GrpcJs } from './protocol';
import { grpc, serverFeaturesGrpc, serverFeaturesPb, streamsGrpc } from './protocol';
import { createReadHandler } from './read';
import type { ReadStats } from './readMessages';
import { SubscriptionRegistry } from './subscription';

export type EsdbTestServerOptions = {
  /**
   * Whether ServerFeatures advertises Streams.BatchAppend, which the client then uses for
   * every append. When false, ServerFeatures returns UNIMPLEMENTED, like a server older than
   * 21.10, and the client appends through Streams.Append. Default false.
   */
  readonly batchAppend?: boolean;
};

export type RunningEsdbTestServer = {
  readonly port: number;
  /** For example `esdb://127.0.0.1:40123?tls=false`. */
  readonly connectionString: string;
  /** Closes every connection at once, failing open calls; the data stays. */
  stop(): Promise<void>;
  /** Listens again on the same port, with the same data. */
  restart(): Promise<void>;
};

const SERVER_VERSION = '24.10.0';
const STREAMS_SERVICE = 'event_store.client.streams.streams';
const STREAMS_METHODS = ['read', 'append', 'delete', 'tombstone'];
/** How long a restart retries binding while the operating system has not yet released the old listening socket. */
const REBIND_TIMEOUT_MS = 5_000;

export class EsdbTestServer {
  /** The storage, exposed so tests can inspect it or write as the server itself would. */
  readonly log = new EventLog();
  /** Calls received per RPC, such as `Streams.BatchAppend`, so tests can tell which path a client took. */
  readonly calls = new Map<string, number>();
  readonly readStats: ReadStats = { eventsSent: 0, drainWaits: 0 };
  private readonly subscriptions = new SubscriptionRegistry();
  private server: GrpcJs.Server | undefined;

  constructor(private readonly options: EsdbTestServerOptions = {}) {}

  async start({ port = 0 }: { port?: number } = {}): Promise<RunningEsdbTestServer> {
    const boundPort = await this.listen(port);
    return {
      port: boundPort,
      connectionString: `esdb://127.0.0.1:${boundPort}?tls=false`,
      stop: () => this.stop(),
      restart: async () => {
        await this.listen(boundPort);
      },
    };
  }

  /** Ends every open subscription with status OK, as a server shutting down cleanly does; returns how many. */
  endSubscriptions(): number {
    const count = this.subscriptions.size;
    this.subscriptions.endAll();
    return count;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) {
      return;
    }

    await new Promise<void>((resolve) => {
      server.tryShutdown(() => resolve());
      server.forceShutdown();
    });
  }

  private async listen(port: number): Promise<number> {
    if (this.server !== undefined) {
      throw new Error('The EventStoreDB test server is already listening; stop it first.');
    }

    const deadline = Date.now() + REBIND_TIMEOUT_MS;
    for (;;) {
      const server = this.createServer();
      try {
        const boundPort = await bind(server, port);
        this.server = server;
        return boundPort;
      } catch (error) {
        server.forceShutdown();
        if (port === 0 || Date.now() > deadline || !String(error).includes('EADDRINUSE')) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  private createServer(): GrpcJs.Server {
    const server = new grpc.Server();
    server.addService(streamsGrpc.StreamsService, {
      read: this.counted('Streams.Read', createReadHandler(this.log, this.subscriptions, this.readStats)),
      append: this.counted('Streams.Append', createAppendHandler(this.log)),
      delete: this.counted('Streams.Delete', createDeleteHandler(this.log)),
      tombstone: this.counted('Streams.Tombstone', createTombstoneHandler(this.log)),
      batchAppend: this.counted('Streams.BatchAppend', createBatchAppendHandler(this.log)),
    });
    server.addService(serverFeaturesGrpc.ServerFeaturesService, {
      getSupportedMethods: this.counted('ServerFeatures.GetSupportedMethods', this.getSupportedMethods),
    });
    return server;
  }

  private counted<Handler extends (...args: never[]) => void>(name: string, handler: Handler): Handler {
    const countCall = (...args: Parameters<Handler>): void => {
      this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
      handler(...args);
    };
    return countCall as Handler;
  }

  /**
   * The client caches the outcome of this call for the life of its channel. It accepts a
   * reply or UNIMPLEMENTED, and any other error would then fail every later append.
   */
  private readonly getSupportedMethods: GrpcJs.handleUnaryCall<unknown, unknown> = (_call, callback) => {
    if (this.options.batchAppend !== true) {
      callback({ code: grpc.status.UNIMPLEMENTED, details: 'Method not found: GetSupportedMethods' });
      return;
    }

    const methods = [...STREAMS_METHODS, 'batchappend'].map((methodName) => {
      const method = new serverFeaturesPb.SupportedMethod();
      method.setServiceName(STREAMS_SERVICE);
      method.setMethodName(methodName);
      return method;
    });
    const supported = new serverFeaturesPb.SupportedMethods();
    supported.setEventStoreServerVersion(SERVER_VERSION);
    supported.setMethodsList(methods);
    callback(null, supported);
  };
}

function bind(server: GrpcJs.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error === null) {
        resolve(boundPort);
      } else {
        reject(error);
      }
    });
  });
}
