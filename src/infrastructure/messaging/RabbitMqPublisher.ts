import { connect as connectAmqp } from 'amqplib';
import type { ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from '../../application/ports/Logger';
import type { MessagePublisher, OutgoingMessage } from '../../application/ports/MessagePublisher';
import { ORDER_CREATED_ROUTING_KEY, ORDER_STATUS_CHANGED_ROUTING_KEY } from '../../application/outbox/orderMessages';

/** Durable topic exchange that carries every order message. */
export const ORDERS_EXCHANGE = 'orders';
export const NEW_ORDERS_QUEUE = 'new_orders';
export const ORDER_UPDATES_QUEUE = 'order_updates';
export { ORDER_CREATED_ROUTING_KEY, ORDER_STATUS_CHANGED_ROUTING_KEY };

/** Durable queues bound to {@link ORDERS_EXCHANGE}, each with its routing key. */
export const ORDER_QUEUE_BINDINGS: readonly { readonly queue: string; readonly routingKey: string }[] = [
  { queue: NEW_ORDERS_QUEUE, routingKey: ORDER_CREATED_ROUTING_KEY },
  { queue: ORDER_UPDATES_QUEUE, routingKey: ORDER_STATUS_CHANGED_ROUTING_KEY },
];

export type RabbitMqPublisherOptions = {
  /** AMQP URL such as `amqp://user:password@host:5672/vhost`. Logs show it with the password redacted. */
  readonly url: string;
  readonly logger: Logger;
  /** Maximum time, in milliseconds, one `publishConfirmed` call waits for all confirms. Default 10000. */
  readonly confirmTimeoutMs?: number;
  /** Maximum time, in milliseconds, to open the connection and channel and declare the topology. Default 5000. */
  readonly connectTimeoutMs?: number;
};

/** Client-provided name that the RabbitMQ management UI shows for this connection. */
const CONNECTION_NAME = 'shopstream publisher';

/**
 * Publishes order messages to RabbitMQ on a confirm channel.
 *
 * The connection opens on the first call (or on `connect()`), and a lost or timed-out connection is
 * discarded so that the next call opens a new one. This class does not retry. The caller publishes
 * the batch again, so the broker may receive a message more than once with the same message id.
 */
export class RabbitMqPublisher implements MessagePublisher {
  private readonly url: string;
  private readonly log: Logger;
  private readonly confirmTimeoutMs: number;
  private readonly connectTimeoutMs: number;

  private session: BrokerSession | undefined;
  private connecting: Promise<BrokerSession> | undefined;
  /** Tail of the batch queue. Batches go out one after another, so two callers never interleave. */
  private batchQueue: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor({ url, logger, confirmTimeoutMs = 10_000, connectTimeoutMs = 5_000 }: RabbitMqPublisherOptions) {
    this.url = url;
    this.log = logger.child({ component: 'RabbitMqPublisher', url: redactUrl(url) });
    this.confirmTimeoutMs = confirmTimeoutMs;
    this.connectTimeoutMs = connectTimeoutMs;
  }

  /** Opens the connection and declares the topology. Logs a warning and rejects when that fails. */
  async connect(): Promise<void> {
    await this.ensureSession();
  }

  publishConfirmed(messages: readonly OutgoingMessage[]): Promise<void> {
    const batch = this.batchQueue.then(() => this.publishBatch(messages));
    // The queue only orders batches, and each caller still receives its own batch's failure.
    this.batchQueue = batch.catch(() => undefined);
    return batch;
  }

  isConnected(): boolean {
    return this.session !== undefined && this.session.lostReason === undefined;
  }

  /** Closes the connection once the batch in flight settles. Later calls reject. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    await this.batchQueue;
    await this.connecting?.catch(() => undefined);

    const session = this.session;
    this.session = undefined;
    if (session !== undefined) {
      await session.close('publisher closed');
    }
  }

  private async publishBatch(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) {
      return;
    }

    let session: BrokerSession;
    try {
      session = await this.ensureSession();
    } catch (error) {
      const messageIds = messages.map((message) => message.messageId);
      this.log.warn({ err: error, messageIds, messageCount: messages.length }, 'RabbitMQ publish failed before sending');
      throw new Error(`RabbitMQ publish of ${messages.length} messages failed: ${toError(error).message}`, { cause: error });
    }

    const confirmedIndexes = new Set<number>();
    try {
      await settleFirst(
        publishAll(session.channel, messages, confirmedIndexes),
        session,
        this.confirmTimeoutMs,
        `RabbitMQ confirms timed out after ${this.confirmTimeoutMs} ms`,
      );
    } catch (error) {
      // By now any close event has been handled, and the close reason explains more than the
      // error amqplib passes to each pending confirm callback.
      throw this.failBatch(session, messages, confirmedIndexes, session.lostReason ?? toError(error));
    }
  }

  private failBatch(
    session: BrokerSession,
    messages: readonly OutgoingMessage[],
    confirmedIndexes: ReadonlySet<number>,
    error: Error,
  ): Error {
    const unconfirmedIds = messages.filter((_, index) => !confirmedIndexes.has(index)).map((message) => message.messageId);
    const nacked = error instanceof MessageNackedError;

    // A nack leaves the channel usable. After a timeout or a closed channel the connection cannot be trusted.
    if (!nacked) {
      void this.discard(session, error.message);
    }
    const context = { err: error, messageIds: unconfirmedIds, messageCount: messages.length };
    if (nacked) {
      this.log.error(context, 'RabbitMQ rejected published messages');
    } else {
      this.log.warn(context, 'RabbitMQ did not confirm published messages');
    }

    return new Error(
      `RabbitMQ did not confirm ${unconfirmedIds.length} of ${messages.length} messages: ${error.message}`,
      { cause: error },
    );
  }

  private ensureSession(): Promise<BrokerSession> {
    if (this.closing !== undefined) {
      return Promise.reject(new Error('RabbitMQ publisher is closed'));
    }
    if (this.session !== undefined && this.session.lostReason === undefined) {
      return Promise.resolve(this.session);
    }

    this.session = undefined;
    this.connecting ??= this.openSession().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openSession(): Promise<BrokerSession> {
    const attempt = this.connectAndDeclare();
    let session: BrokerSession;
    try {
      session = await withTimeout(attempt, this.connectTimeoutMs, `connecting to RabbitMQ timed out after ${this.connectTimeoutMs} ms`);
    } catch (error) {
      if (error instanceof TimeoutError) {
        // A connection that opens after the timeout must still be closed, or it stays open unused.
        void attempt.then(
          (late) => late.close('connect timed out'),
          (lateError: unknown) => this.log.debug({ err: lateError }, 'RabbitMQ connect attempt failed after its timeout'),
        );
      }
      this.log.warn({ err: error }, 'failed to connect to RabbitMQ');
      throw error;
    }

    if (this.closing !== undefined) {
      await session.close('publisher closed');
      throw new Error('RabbitMQ publisher is closed');
    }
    this.session = session;
    this.log.info({ exchange: ORDERS_EXCHANGE }, 'connected to RabbitMQ');
    return session;
  }

  private async connectAndDeclare(): Promise<BrokerSession> {
    // amqplib's `timeout` socket option bounds the TCP connect and the AMQP handshake.
    const connection = await connectAmqp(this.url, {
      timeout: this.connectTimeoutMs,
      clientProperties: { connection_name: CONNECTION_NAME },
    });
    const session = new BrokerSession(connection, this.log, this.connectTimeoutMs);
    try {
      session.attachChannel(await connection.createConfirmChannel());
      await declareTopology(session.channel);
      return session;
    } catch (error) {
      await session.close('connection setup failed');
      throw error;
    }
  }

  private discard(session: BrokerSession, reason: string): Promise<void> {
    if (this.session === session) {
      this.session = undefined;
    }
    return session.close(reason);
  }
}

/**
 * Returns the URL with its password replaced by `***`, for logs. Any other string is replaced whole,
 * because a password could be anywhere in it. The check for `scheme://` is needed because the
 * WHATWG URL parser reads `user:password@host` as scheme `user:` with no password.
 */
export function redactUrl(url: string): string {
  const unparseable = '[unparseable URL]';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    return unparseable;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return unparseable;
  }

  if (parsed.password !== '') {
    parsed.password = '***';
  }
  return parsed.toString();
}

class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

class MessageNackedError extends Error {
  constructor(messageId: string) {
    super(`RabbitMQ nacked message ${messageId}`);
    this.name = 'MessageNackedError';
  }
}

/** One connection with its confirm channel. Once lost or closed it is never used again. */
class BrokerSession {
  lostReason: Error | undefined;
  private confirmChannel: ConfirmChannel | undefined;
  private discardReason: string | undefined;
  private connectionClosed = false;
  private closing: Promise<void> | undefined;
  private lastError: Error | undefined;
  private readonly lossListeners = new Set<(reason: Error) => void>();

  constructor(
    private readonly connection: ChannelModel,
    private readonly log: Logger,
    private readonly closeTimeoutMs: number,
  ) {
    // Every 'error' is followed by 'close', which reports it. Without a listener Node would throw.
    connection.on('error', (error: Error) => {
      this.lastError = error;
    });
    connection.on('close', (error?: Error) => {
      this.connectionClosed = true;
      this.markLost('connection', error ?? this.lastError ?? new Error('RabbitMQ connection closed'));
    });
    connection.on('blocked', (reason: string) => {
      this.log.warn({ reason }, 'RabbitMQ blocked publishing on the connection');
    });
    connection.on('unblocked', () => {
      this.log.info({}, 'RabbitMQ unblocked publishing on the connection');
    });
  }

  get channel(): ConfirmChannel {
    if (this.confirmChannel === undefined) {
      throw new Error('RabbitMQ confirm channel is not open yet');
    }
    return this.confirmChannel;
  }

  attachChannel(channel: ConfirmChannel): void {
    this.confirmChannel = channel;
    channel.on('error', (error: Error) => {
      this.lastError = error;
    });
    channel.on('close', () => {
      // A channel closed by the broker (for example on a missing exchange) leaves the connection open.
      this.markLost('channel', this.lastError ?? new Error('RabbitMQ channel closed'));
      void this.close('channel closed');
    });
    channel.on('return', (message: ConsumeMessage) => {
      this.log.warn(
        { messageId: message.properties.messageId as string | undefined, routingKey: message.fields.routingKey },
        'RabbitMQ returned an unroutable message',
      );
    });
  }

  /** Registers a listener for the loss of the connection or channel and returns a function that removes it. */
  onLost(listener: (reason: Error) => void): () => void {
    if (this.lostReason !== undefined) {
      listener(this.lostReason);
      return () => undefined;
    }
    this.lossListeners.add(listener);
    return () => this.lossListeners.delete(listener);
  }

  /** Closes the connection once. Errors from an already broken connection are logged at debug level. */
  close(reason: string): Promise<void> {
    this.closing ??= this.closeOnce(reason);
    return this.closing;
  }

  private async closeOnce(reason: string): Promise<void> {
    this.discardReason = reason;
    if (this.connectionClosed) {
      return;
    }

    this.log.info({ reason }, 'closing RabbitMQ connection');
    try {
      // A stalled broker never sends close-ok, so the wait is bounded. amqplib's heartbeat check
      // closes such a connection later: after two missed heartbeats, 60 s each by RabbitMQ's default.
      await withTimeout(this.connection.close(), this.closeTimeoutMs, `closing the RabbitMQ connection timed out after ${this.closeTimeoutMs} ms`);
    } catch (error) {
      this.log.debug({ err: error, reason }, 'RabbitMQ connection did not close cleanly');
    }
  }

  private markLost(closed: 'connection' | 'channel', reason: Error): void {
    if (this.lostReason !== undefined) {
      return;
    }

    this.lostReason = reason;
    if (this.discardReason === undefined) {
      this.log.warn({ err: reason, closed }, 'RabbitMQ connection lost');
    } else {
      this.log.debug({ reason: this.discardReason, closed }, 'RabbitMQ connection closed');
    }
    for (const listener of this.lossListeners) {
      listener(reason);
    }
    this.lossListeners.clear();
  }
}

async function declareTopology(channel: ConfirmChannel): Promise<void> {
  await channel.assertExchange(ORDERS_EXCHANGE, 'topic', { durable: true });
  for (const { queue, routingKey } of ORDER_QUEUE_BINDINGS) {
    await channel.assertQueue(queue, { durable: true });
    await channel.bindQueue(queue, ORDERS_EXCHANGE, routingKey);
  }
}

/**
 * Publishes the messages in order and resolves when the broker has acked all of them. Rejects on the
 * first nack, or when publish() throws because the channel is closed. Waits for 'drain' whenever
 * amqplib's write buffer is full. Adds the index of every acked message to `confirmedIndexes`.
 */
function publishAll(
  channel: ConfirmChannel,
  messages: readonly OutgoingMessage[],
  confirmedIndexes: Set<number>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let nextIndex = 0;
    let failed = false;

    const fail = (error: Error): void => {
      failed = true;
      reject(error);
    };
    const onConfirm = (index: number, message: OutgoingMessage) => (error: unknown) => {
      if (error !== null && error !== undefined) {
        // amqplib reports a nack and a closed channel through this callback alike. The caller tells
        // them apart by whether the session was lost.
        fail(new MessageNackedError(message.messageId));
        return;
      }
      confirmedIndexes.add(index);
      if (confirmedIndexes.size === messages.length) {
        resolve();
      }
    };
    const publishRemaining = (): void => {
      while (!failed && nextIndex < messages.length) {
        const index = nextIndex;
        const message = messages[index] as OutgoingMessage;
        nextIndex += 1;

        const content = Buffer.from(JSON.stringify(message.body));
        let accepted: boolean;
        try {
          accepted = channel.publish(ORDERS_EXCHANGE, message.routingKey, content, toPublishOptions(message), onConfirm(index, message));
        } catch (error) {
          fail(toError(error));
          return;
        }
        if (!accepted) {
          channel.once('drain', publishRemaining);
          return;
        }
      }
    };

    publishRemaining();
  });
}

function toPublishOptions(message: OutgoingMessage): Options.Publish {
  const options: Options.Publish = {
    persistent: true,
    // Returned if no queue is bound to the routing key, so the loss shows in the log.
    mandatory: true,
    messageId: message.messageId,
    type: message.type,
    contentType: 'application/json',
    // AMQP timestamps are whole seconds since the epoch, but the port's timestamp is in milliseconds.
    timestamp: Math.floor(message.timestamp / 1000),
  };
  if (message.correlationId !== undefined) {
    options.correlationId = message.correlationId;
  }
  return options;
}

/** Settles with `work`, unless the session is lost or the timeout expires first. */
function settleFirst<T>(work: Promise<T>, session: BrokerSession, timeoutMs: number, timeoutMessage: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let stopWatching = (): void => undefined;
    const timer = setTimeout(() => finish(() => reject(new TimeoutError(timeoutMessage))), timeoutMs);
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      stopWatching();
      settle();
    };

    stopWatching = session.onLost((reason) => finish(() => reject(reason)));
    work.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(toError(error))),
    );
  });
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, timeoutMessage: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(timeoutMessage)), timeoutMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(toError(error));
      },
    );
  });
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
