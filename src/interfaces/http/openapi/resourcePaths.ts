import { ORDER_STATE_INVALID, ORDER_STATE_PARAMETERS, X_REVISION_HEADER } from './auditPaths';
import { pathItem } from './pathItems';
import {
  commandErrors,
  ETAG_HEADER,
  errorResponse,
  idParameter,
  IF_MATCH_PARAMETER,
  INVALID_ID,
  jsonResponse,
  locationHeader,
  NOT_FOUND,
  REQUEST_ID_PARAMETER,
  SERVER_ERROR,
  UNAVAILABLE,
} from './responses';
import { ref, type JsonSchema, type OperationObject, type PathItemObject, type RequestBodyObject } from './types';

const jsonBody = (schema: string, description: string): RequestBodyObject => ({
  description,
  required: true,
  content: { 'application/json': { schema: ref(schema) } },
});

const statusMessage = (text: string): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { const: text } },
});

const created = (text: string): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['status', 'id'],
  properties: { status: { const: text }, id: { type: 'integer', minimum: 1, description: 'Id of the new resource.' } },
});

const READ_ERRORS = (resource: string): OperationObject['responses'] => ({
  '400': INVALID_ID,
  '404': NOT_FOUND(resource),
  '500': SERVER_ERROR,
  '503': UNAVAILABLE,
});

/** Ids are allocated in creation order through the event store and never reused; a failed create may leave a gap. */
const CREATE_NOTE = 'Ids are positive integers in creation order, never reused. The response is sent once the new resource is readable.';

/** A command responds after the projector has applied its events, so a GET right after it returns the change. */
const WRITE_NOTE = 'The response is sent once the change is readable (up to the read-your-writes timeout).';

function createOperation(options: {
  readonly name: string;
  readonly tag: string;
  readonly collection: string;
  readonly requestSchema: string;
  readonly statusText: string;
  readonly conflicts: readonly string[];
  readonly extra?: OperationObject['responses'];
}): OperationObject {
  const { name, tag, collection, requestSchema, statusText, conflicts, extra = {} } = options;
  return {
    operationId: `create${name}`,
    summary: `Create a ${tag.slice(0, -1)}`,
    description: CREATE_NOTE,
    tags: [tag],
    parameters: [REQUEST_ID_PARAMETER, IF_MATCH_PARAMETER],
    requestBody: jsonBody(requestSchema, 'Every field is required; unknown fields are rejected by name.'),
    responses: {
      '201': jsonResponse('Created.', created(statusText), { Location: locationHeader(collection), ETag: ETAG_HEADER }),
      ...commandErrors({ body: true, conflicts }),
      ...extra,
    },
  };
}

const usersPaths: Record<string, PathItemObject> = {
  '/users': pathItem('users', {
    post: createOperation({
      name: 'User',
      tag: 'users',
      collection: '/users',
      requestSchema: 'CreateUserRequest',
      statusText: 'user created',
      conflicts: ['email_taken', 'username_taken', 'concurrency_conflict'],
    }),
  }),
  '/users/{user_id}': pathItem(
    'user',
    {
      get: {
        operationId: 'getUser',
        summary: 'Get a user',
        tags: ['users'],
        parameters: [REQUEST_ID_PARAMETER],
        responses: { '200': jsonResponse('The user.', ref('UserEnvelope'), { ETag: ETAG_HEADER }), ...READ_ERRORS('user') },
      },
      put: {
        operationId: 'updateUser',
        summary: 'Update a user',
        description: `A changed email or username must still be unique; the old one is released. ${WRITE_NOTE}`,
        tags: ['users'],
        parameters: [REQUEST_ID_PARAMETER, IF_MATCH_PARAMETER],
        requestBody: jsonBody('UpdateUserRequest', 'Any non-empty subset of the fields.'),
        responses: {
          '200': jsonResponse('The updated user.', ref('UserEnvelope'), { ETag: ETAG_HEADER }),
          ...commandErrors({ body: true, resource: 'user', conflicts: ['email_taken', 'username_taken', 'concurrency_conflict'] }),
        },
      },
      delete: {
        operationId: 'deleteUser',
        summary: 'Delete a user',
        description: `Releases the email and username. GET then returns 404 for the user, but their orders stay listed. ${WRITE_NOTE}`,
        tags: ['users'],
        parameters: [REQUEST_ID_PARAMETER, IF_MATCH_PARAMETER],
        responses: {
          '200': jsonResponse('Deleted.', statusMessage('user deleted')),
          ...commandErrors({ body: false, resource: 'user', conflicts: ['concurrency_conflict'] }),
        },
      },
    },
    [idParameter('user_id', 'user')],
  ),
};

const productsPaths: Record<string, PathItemObject> = {
  '/products': pathItem('products', {
    post: createOperation({
      name: 'Product',
      tag: 'products',
      collection: '/products',
      requestSchema: 'CreateProductRequest',
      statusText: 'product created',
      conflicts: ['concurrency_conflict'],
    }),
  }),
  '/products/{product_id}': pathItem(
    'product',
    {
      get: {
        operationId: 'getProduct',
        summary: 'Get a product',
        description: 'Returns the bare product object, as the original specification does.',
        tags: ['products'],
        parameters: [REQUEST_ID_PARAMETER],
        responses: { '200': jsonResponse('The product.', ref('Product'), { ETag: ETAG_HEADER }), ...READ_ERRORS('product') },
      },
      put: {
        operationId: 'updateProduct',
        summary: 'Update a product',
        description: WRITE_NOTE,
        tags: ['products'],
        parameters: [REQUEST_ID_PARAMETER, IF_MATCH_PARAMETER],
        requestBody: jsonBody('UpdateProductRequest', 'Any non-empty subset of the fields.'),
        responses: {
          '200': jsonResponse('Updated.', statusMessage('product updated'), { ETag: ETAG_HEADER }),
          ...commandErrors({ body: true, resource: 'product', conflicts: ['concurrency_conflict'] }),
        },
      },
      delete: {
        operationId: 'deleteProduct',
        summary: 'Delete a product',
        description: `GET then returns 404 for the product. Its event stream stays for auditors. ${WRITE_NOTE}`,
        tags: ['products'],
        parameters: [REQUEST_ID_PARAMETER, IF_MATCH_PARAMETER],
        responses: {
          '200': jsonResponse('Deleted.', statusMessage('product deleted')),
          ...commandErrors({ body: false, resource: 'product', conflicts: ['concurrency_conflict'] }),
        },
      },
    },
    [idParameter('product_id', 'product')],
  ),
};

const ordersPaths: Record<string, PathItemObject> = {
  '/orders': pathItem('orders', {
    post: createOperation({
      name: 'Order',
      tag: 'orders',
      collection: '/orders',
      requestSchema: 'CreateOrderRequest',
      statusText: 'order created',
      conflicts: ['concurrency_conflict'],
      extra: { '422': errorResponse('The customer does not exist or was deleted.', ['customer_not_found']) },
    }),
  }),
  '/orders/{order_id}': pathItem(
    'order',
    {
      get: {
        operationId: 'getOrder',
        summary: 'Get an order',
        description:
          'Returns the bare order object, as the original specification does. Without query parameters it reads the read model; ' +
          'with `as_of` or `revision` it returns the same body for a past state, folded from the event store.',
        tags: ['orders'],
        parameters: [REQUEST_ID_PARAMETER, ...ORDER_STATE_PARAMETERS],
        responses: {
          '200': jsonResponse('The order.', ref('Order'), { ETag: ETAG_HEADER, 'X-Revision': X_REVISION_HEADER }),
          ...READ_ERRORS('order'),
          '400': ORDER_STATE_INVALID,
        },
      },
    },
    [idParameter('order_id', 'order')],
  ),
  '/orders/{order_id}/status': pathItem(
    'orderStatus',
    {
      put: {
        operationId: 'changeOrderStatus',
        summary: 'Change the status of an order',
        description: `A move publishes a message to \`order_updates\`; setting the current status again changes and publishes nothing. ${WRITE_NOTE}`,
        tags: ['orders'],
        parameters: [REQUEST_ID_PARAMETER, IF_MATCH_PARAMETER],
        requestBody: jsonBody('ChangeOrderStatusRequest', 'The new status.'),
        responses: {
          '200': jsonResponse('Changed, or already in that status.', statusMessage('order status updated'), { ETag: ETAG_HEADER }),
          ...commandErrors({ body: true, resource: 'order', conflicts: ['invalid_status_transition', 'concurrency_conflict'] }),
        },
      },
    },
    [idParameter('order_id', 'order')],
  ),
  '/orders/user/{customer_id}': pathItem(
    'customerOrders',
    {
      get: {
        operationId: 'listOrdersOfCustomer',
        summary: "List a customer's orders",
        description: "A deleted user's orders stay listed; only an id that never belonged to a user is a 404.",
        tags: ['orders'],
        parameters: [REQUEST_ID_PARAMETER],
        responses: {
          '200': jsonResponse('The orders, oldest first; may be empty.', ref('OrderList')),
          ...READ_ERRORS('user'),
          '404': errorResponse('No user ever had this id.', ['not_found']),
        },
      },
    },
    [idParameter('customer_id', 'user')],
  ),
};

/** The resource endpoints of the original specification. */
export const resourcePaths: Readonly<Record<string, PathItemObject>> = { ...usersPaths, ...productsPaths, ...ordersPaths };
