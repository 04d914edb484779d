// Confirm-mode publishing of one batch, kept apart from RabbitMqPublisher, which decides what a
// failed batch means for its connection.
import type { ConfirmChannel, Options } from 'amqplib';
import type { OutgoingMessage } from '../../application/ports/MessagePublisher';
import { toError } from './BrokerSession';
import { ORDERS_EXCHANGE } from './rabbitMqTopology';

export class MessageNackedError extends Error {
  constructor(messageId: string) {
    super(`RabbitMQ nacked message ${messageId}`);
    this.name = 'MessageNackedError';
  }
}

/**
 * Publishes the messages in order and resolves when the broker has acked all of them. Rejects on the
 * first nack, or when publish() throws because the channel is closed. Waits for 'drain' whenever
 * amqplib's write buffer is full. Adds the index of every acked message to `confirmedIndexes`.
 */
export function publishAll(
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
