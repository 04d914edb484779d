import { Router } from 'express';
import type { AuditService } from '../../../application/audit/AuditService';
import type { OrderService } from '../../../application/orders/OrderService';
import type { QueryService } from '../../../application/queries/QueryService';
import type { OrderStatus } from '../../../domain/order/orderStatus';
import { parseStatePointQuery } from '../auditQueries';
import { jsonBody, methodNotAllowed } from '../middleware';
import { awaitProjection, BODY_LIMIT_BYTES, commandContext, sendCreated, setETag, type WriteSupport } from '../routeSupport';
import { parseIdParam, schemas, toMoney, validateBody } from '../validation';
import { sendOrderState } from './auditRoutes';

export function orderRoutes(orders: OrderService, queries: QueryService, support: WriteSupport, audit: AuditService): Router {
  const router = Router();

  router.post('/orders', jsonBody(BODY_LIMIT_BYTES), async (request, response) => {
    const body = validateBody<{ customer_id: number; total_amount: number }>(schemas.createOrder, request.body);

    const result = await orders.create(
      { customerId: body.customer_id, totalAmount: toMoney('total_amount', body.total_amount) },
      commandContext(request, support.ids),
    );
    await awaitProjection(request, result, support);

    sendCreated(response, '/orders', 'order created', result);
  });
  router.all('/orders', methodNotAllowed(['POST']));

  router.get('/orders/user/:customer_id', async (request, response) => {
    const customerId = parseIdParam('customer_id', request.params.customer_id);

    response.json(await queries.listOrdersOfCustomer(customerId));
  });
  router.all('/orders/user/:customer_id', methodNotAllowed(['GET']));

  router.get('/orders/:order_id', async (request, response) => {
    const orderId = parseIdParam('order_id', request.params.order_id);
    const point = parseStatePointQuery(request.query);
    if (point !== undefined) {
      sendOrderState(response, await audit.orderStateAt(orderId, point));
      return;
    }

    const record = await queries.get('orders', orderId);

    setETag(response, record.revision);
    response.json(record.view);
  });
  router.all('/orders/:order_id', methodNotAllowed(['GET']));

  router.put('/orders/:order_id/status', jsonBody(BODY_LIMIT_BYTES), async (request, response) => {
    const orderId = parseIdParam('order_id', request.params.order_id);
    const body = validateBody<{ status: OrderStatus }>(schemas.changeOrderStatus, request.body);

    const result = await orders.changeStatus(orderId, body.status, commandContext(request, support.ids));
    await awaitProjection(request, result, support);

    setETag(response, result.revision);
    response.json({ status: 'order status updated' });
  });
  router.all('/orders/:order_id/status', methodNotAllowed(['PUT']));

  return router;
}
