import { connect as connectAmqp } from 'amqplib';
import type { Logger } from '../../application/ports/Logger';
import type { MessagePublisher, OutgoingMessage } from '../../application/ports/MessagePublisher';
import { BrokerSession, settleFirst, TimeoutError, toError, withTimeout } from './BrokerSession';
import { MessageNackedError, publishAll } from './publishAll';
import { declareTopology, ORDERS_EXCHANGE } from './rabbitMqTopology';
import { redactUrl } from './redactUrl';

export {
  NEW_ORDERS_QUEUE,
  ORDER_CREATED_ROUTING_KEY,
  ORDER_QUEUE_BINDINGS,
  ORDER_STATUS_CHANGED_ROUTING_KEY,
  ORDER_UPDATES_QUEUE,
  ORDERS_EXCHANGE,
} from './rabbitMqTopology';
export { redactUrl };

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
