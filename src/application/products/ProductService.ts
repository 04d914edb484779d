import type { ProductFields } from '../../domain/product/productEvents';
import { productStreamName } from '../../domain/product/productEvents';
import type { Clock } from '../ports/Clock';
import type { Logger } from '../ports/Logger';
import type { AggregateRepository } from '../shared/AggregateRepository';
import { productAggregate } from '../shared/aggregates';
import type { CommandContext } from '../shared/CommandContext';
import type { IdAllocator } from '../shared/IdAllocator';
import type { WriteResult } from '../shared/WriteResult';

export class ProductService {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly ids: IdAllocator,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async create(fields: ProductFields, context: CommandContext): Promise<WriteResult> {
    const productId = await this.ids.allocate('product', context);

    const result = await this.repository.execute(
      productAggregate,
      productStreamName(productId),
      { type: 'CreateProduct', productId, ...fields, now: this.clock.now() },
      context,
    );

    this.logger.info({ productId, correlationId: context.correlationId }, 'product created');
    return { id: productId, revision: result.revision, position: result.position };
  }

  async update(productId: number, changes: Partial<ProductFields>, context: CommandContext): Promise<WriteResult> {
    const result = await this.repository.execute(
      productAggregate,
      productStreamName(productId),
      { type: 'UpdateProduct', productId, ...changes, now: this.clock.now() },
      context,
    );

    if (result.events.length > 0) this.logger.info({ productId, correlationId: context.correlationId }, 'product updated');
    return { id: productId, revision: result.revision, position: result.position };
  }

  async delete(productId: number, context: CommandContext): Promise<WriteResult> {
    const result = await this.repository.execute(
      productAggregate,
      productStreamName(productId),
      { type: 'DeleteProduct', productId, now: this.clock.now() },
      context,
    );

    this.logger.info({ productId, correlationId: context.correlationId }, 'product deleted');
    return { id: productId, revision: result.revision, position: result.position };
  }
}
