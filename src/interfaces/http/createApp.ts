import express, { type Express } from 'express';
import type { HealthService } from '../../application/health/HealthService';
import type { OrderService } from '../../application/orders/OrderService';
import type { ProductService } from '../../application/products/ProductService';
import type { QueryService } from '../../application/queries/QueryService';
import type { UserService } from '../../application/users/UserService';
import { errorHandler } from './errorHandler';
import { HttpError } from './httpErrors';
import { methodNotAllowed, requestContext } from './middleware';
import type { WriteSupport } from './routeSupport';
import { orderRoutes } from './routes/orderRoutes';
import { productRoutes } from './routes/productRoutes';
import { userRoutes } from './routes/userRoutes';

export type HttpDependencies = WriteSupport & {
  readonly users: UserService;
  readonly products: ProductService;
  readonly orders: OrderService;
  readonly queries: QueryService;
  readonly health: HealthService;
};

/** Builds the Express application; listening is the caller's job, so tests can use any port. */
export function createApp(dependencies: HttpDependencies): Express {
  const { users, products, orders, queries, health, logger, ids } = dependencies;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(requestContext(logger, ids));

  app.get('/health/live', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.get('/health/ready', async (_request, response) => {
    const report = await health.readiness();
    response.status(report.status === 'ready' ? 200 : 503).json(report);
  });
  app.all('/health/live', methodNotAllowed(['GET']));
  app.all('/health/ready', methodNotAllowed(['GET']));

  app.use(userRoutes(users, queries, dependencies));
  app.use(productRoutes(products, queries, dependencies));
  app.use(orderRoutes(orders, queries, dependencies));

  app.use((request, _response, next) => {
    next(new HttpError(404, 'not_found', `no route for ${request.method} ${request.path}`));
  });
  app.use(errorHandler);
  return app;
}
