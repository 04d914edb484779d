import type { MessagePublisher, OutgoingMessage } from '../../application/ports/MessagePublisher';
import type { ShopstreamMetrics } from './ShopstreamMetrics';

/**
 * A message publisher that counts messages handed over and confirmed, failed publishes, and
 * reconnects. The publisher connects on demand inside `publishConfirmed`, so a call that starts
 * disconnected and ends connected opened a new connection.
 */
export class MeteredMessagePublisher implements MessagePublisher {
  private everConnected = false;

  constructor(
    private readonly inner: MessagePublisher,
    private readonly metrics: ShopstreamMetrics,
  ) {
    metrics.observeBroker(() => this.isConnected());
  }

  async publishConfirmed(messages: readonly OutgoingMessage[]): Promise<void> {
    const connectedBefore = this.isConnected();
    const connectedEarlier = this.everConnected;
    this.metrics.countPublished(messages.length);
    try {
      await this.inner.publishConfirmed(messages);
      this.metrics.countConfirmed(messages.length);
    } catch (error) {
      this.metrics.countPublishFailure();
      throw error;
    } finally {
      // NOTE: a connection opened and lost again within one failed call is not seen, so the
      // reconnect count is a lower bound.
      if (!connectedBefore && connectedEarlier && this.isConnected()) this.metrics.countBrokerReconnect();
    }
  }

  isConnected(): boolean {
    const connected = this.inner.isConnected();
    if (connected) this.everConnected = true;
    return connected;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
