import express, { type Express } from 'express';
import type { AuditService } from '../../application/audit/AuditService';
import type { HealthService } from '../../application/health/HealthService';
import type { OrderService } from '../../application/orders/OrderService';
import type { ProductService } from '../../application/products/ProductService';
import type { QueryService } from '../../application/queries/QueryService';
import type { UserService } from '../../application/users/UserService';
import { apiDescriptionRoutes } from './apiDescriptionRoutes';
import { errorHandler } from './errorHandler';
import { HttpError } from './httpErrors';
import { measureRequests, metricsRoutes, type HttpMetrics } from './httpMetrics';
import { methodNotAllowed, requestContext } from './middleware';
import type { WriteSupport } from './routeSupport';
import { auditRoutes } from './routes/auditRoutes';
import { orderRoutes } from './routes/orderRoutes';
import { productRoutes } from './routes/productRoutes';
import { userRoutes } from './routes/userRoutes';

export type HttpDependencies = WriteSupport & {
  readonly users: UserService;
  readonly products: ProductService;
  readonly orders: OrderService;
  readonly queries: QueryService;
  readonly audit: AuditService;
  readonly health: HealthService;
  /** Serves `/metrics` and times requests; without it neither happens. */
  readonly metrics?: HttpMetrics;
};

/** Builds the Express application; listening is the caller's job, so tests can use any port. */
export function createApp(dependencies: HttpDependencies): Express {
  const { users, products, orders, queries, audit, health, logger, ids, metrics } = dependencies;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use(requestContext(logger, ids));
  if (metrics !== undefined) app.use(measureRequests(metrics));

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
  app.use(orderRoutes(orders, queries, dependencies, audit));
  app.use(auditRoutes(audit));
  app.use(apiDescriptionRoutes());
  if (metrics !== undefined) app.use(metricsRoutes(metrics));

  app.use((request, _response, next) => {
    next(new HttpError(404, 'not_found', `no route for ${request.method} ${request.path}`));
  });
  app.use(errorHandler);
  return app;
}
