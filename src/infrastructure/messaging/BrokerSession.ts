// One AMQP connection with its confirm channel, plus the bounded waits used on it. withTimeout bounds
// any promise, and settleFirst also ends the wait when the session is lost.
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../../application/ports/Logger';

export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** One connection with its confirm channel. Once lost or closed it is never used again. */
export class BrokerSession {
  lostReason: Error | undefined;
  private confirmChannel: ConfirmChannel | undefined;
  private discardReason: string | undefined;
  private connectionClosed = false;
  private closing: Promise<void> | undefined;
  private lastError: Error | undefined;
  private readonly lossListeners = new Set<(reason: Error) => void>();
  private markConnectionClosed: () => void = () => undefined;
  /** Resolves when amqplib reports the connection closed, for any reason. */
  private readonly connectionClosedEvent = new Promise<void>((resolve) => {
    this.markConnectionClosed = resolve;
  });

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
      this.markConnectionClosed();
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
      // A socket reset while close-ok is awaited leaves amqplib's close() pending, but the
      // connection still emits 'close', which ends the wait as well.
      const closed = Promise.race([this.connection.close(), this.connectionClosedEvent]);
      await withTimeout(closed, this.closeTimeoutMs, `closing the RabbitMQ connection timed out after ${this.closeTimeoutMs} ms`);
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

/** Settles with `work`, unless the session is lost or the timeout expires first. */
export function settleFirst<T>(work: Promise<T>, session: BrokerSession, timeoutMs: number, timeoutMessage: string): Promise<T> {
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

export function withTimeout<T>(work: Promise<T>, timeoutMs: number, timeoutMessage: string): Promise<T> {
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

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
