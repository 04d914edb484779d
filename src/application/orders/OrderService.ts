import { orderStreamName } from '../../domain/order/orderEvents';
import type { OrderStatus } from '../../domain/order/orderStatus';
import type { Money } from '../../domain/shared/money';
import { userStreamName } from '../../domain/user/userEvents';
import type { Clock } from '../ports/Clock';
import type { Logger } from '../ports/Logger';
import type { AggregateRepository } from '../shared/AggregateRepository';
import { orderAggregate, userAggregate } from '../shared/aggregates';
import { CustomerNotFoundError } from '../shared/applicationErrors';
import type { CommandContext } from '../shared/CommandContext';
import type { IdAllocator } from '../shared/IdAllocator';
import type { WriteResult } from '../shared/WriteResult';

export type CreateOrderInput = { readonly customerId: number; readonly totalAmount: Money };

export class OrderService {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly ids: IdAllocator,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /**
   * Creates an order for an existing customer. The customer is read from its own stream,
   * not from a read model; a customer deleted between that read and the append still gets
   * the order, since the event store has no transaction across two streams.
   */
  async create(input: CreateOrderInput, context: CommandContext): Promise<WriteResult> {
    const { customerId, totalAmount } = input;
    const { state: customer } = await this.repository.load(userAggregate, userStreamName(customerId));
    if (customer.status !== 'active') {
      throw new CustomerNotFoundError(`customer ${customerId} does not exist or was deleted`, [
        { field: 'customer_id', message: `user ${customerId} does not exist or was deleted` },
      ]);
    }

    const orderId = await this.ids.allocate('order', context);
    const result = await this.repository.execute(
      orderAggregate,
      orderStreamName(orderId),
      { type: 'CreateOrder', orderId, customerId, totalAmount, now: this.clock.now() },
      context,
    );

    this.logger.info({ orderId, customerId, correlationId: context.correlationId }, 'order created');
    return { id: orderId, revision: result.revision, position: result.position };
  }

  /** Setting the current status again succeeds and appends nothing, so nothing is published. */
  async changeStatus(orderId: number, status: OrderStatus, context: CommandContext): Promise<WriteResult> {
    const result = await this.repository.execute(
      orderAggregate,
      orderStreamName(orderId),
      { type: 'ChangeOrderStatus', orderId, status, now: this.clock.now() },
      context,
    );

    if (result.events.length > 0) {
      this.logger.info({ orderId, status, revision: String(result.revision), correlationId: context.correlationId }, 'order status changed');
    }
    return { id: orderId, revision: result.revision, position: result.position };
  }
}
