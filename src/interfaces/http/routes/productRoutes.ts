import { Router } from 'express';
import type { ProductService } from '../../../application/products/ProductService';
import type { QueryService } from '../../../application/queries/QueryService';
import type { ProductFields } from '../../../domain/product/productEvents';
import { jsonBody, methodNotAllowed } from '../middleware';
import { awaitProjection, BODY_LIMIT_BYTES, commandContext, sendCreated, setETag, type WriteSupport } from '../routeSupport';
import { parseIdParam, schemas, toMoney, validateBody } from '../validation';

type ProductBody = {
  name: string;
  description: string;
  price: number;
  quantity: number;
  shop_id: number;
  category_id: number;
};

export function productRoutes(products: ProductService, queries: QueryService, support: WriteSupport): Router {
  const router = Router();

  router.post('/products', jsonBody(BODY_LIMIT_BYTES), async (request, response) => {
    const body = validateBody<ProductBody>(schemas.createProduct, request.body);

    const result = await products.create(toProductFields(body) as ProductFields, commandContext(request, support.ids));
    await awaitProjection(request, result, support);

    sendCreated(response, '/products', 'product created', result);
  });
  router.all('/products', methodNotAllowed(['POST']));

  router.get('/products/:product_id', async (request, response) => {
    const productId = parseIdParam('product_id', request.params.product_id);

    const record = await queries.get('products', productId);

    setETag(response, record.revision);
    response.json(record.view);
  });

  router.put('/products/:product_id', jsonBody(BODY_LIMIT_BYTES), async (request, response) => {
    const productId = parseIdParam('product_id', request.params.product_id);
    const body = validateBody<Partial<ProductBody>>(schemas.updateProduct, request.body);

    const result = await products.update(productId, toProductFields(body), commandContext(request, support.ids));
    await awaitProjection(request, result, support);

    setETag(response, result.revision);
    response.json({ status: 'product updated' });
  });

  router.delete('/products/:product_id', async (request, response) => {
    const productId = parseIdParam('product_id', request.params.product_id);

    const result = await products.delete(productId, commandContext(request, support.ids));
    await awaitProjection(request, result, support);

    response.json({ status: 'product deleted' });
  });
  router.all('/products/:product_id', methodNotAllowed(['GET', 'PUT', 'DELETE']));

  return router;
}

/** Maps validated wire fields to domain fields; only the fields present are returned. */
function toProductFields(body: Partial<ProductBody>): Partial<ProductFields> {
  return {
    ...(body.name !== undefined && { name: body.name }),
    ...(body.description !== undefined && { description: body.description }),
    ...(body.price !== undefined && { price: toMoney('price', body.price) }),
    ...(body.quantity !== undefined && { quantity: body.quantity }),
    ...(body.shop_id !== undefined && { shopId: body.shop_id }),
    ...(body.category_id !== undefined && { categoryId: body.category_id }),
  };
}
