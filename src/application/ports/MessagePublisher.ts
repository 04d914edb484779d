/** One message for the broker; the adapter maps it to AMQP properties. */
export type OutgoingMessage = {
  /** Routing key on the `orders` exchange, e.g. `order.created`. */
  readonly routingKey: string;
  /** The source event's id: consumers deduplicate on it. */
  readonly messageId: string;
  /** The source event's type. */
  readonly type: string;
  readonly correlationId: string | undefined;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly body: Readonly<Record<string, unknown>>;
};

export interface MessagePublisher {
  /**
   * Publishes the messages in order as persistent messages and resolves only after the broker
   * has confirmed every one. Rejects if any is not confirmed (nack, lost connection, timeout);
   * the caller then publishes the whole batch again, so duplicates carry equal message ids.
   * Connects, or reconnects, on demand.
   */
  publishConfirmed(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Whether the last connection attempt succeeded and the connection is open. */
  isConnected(): boolean;
  close(): Promise<void>;
}
