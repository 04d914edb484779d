import { allowHeader, REQUEST_ID_HEADER } from './responses';
import type { OperationObject, ParameterObject, PathItemObject } from './types';

type Operations = { readonly get?: OperationObject; readonly put?: OperationObject; readonly post?: OperationObject; readonly delete?: OperationObject };

/**
 * Builds a path item with its operations and the `OPTIONS` operation the app supports on every
 * path. List the operations in the order the route lists them, because that order is the order
 * of the `Allow` header.
 */
export function pathItem(name: string, operations: Operations, parameters: readonly ParameterObject[] = []): PathItemObject {
  const allow = allowedMethods(operations).join(', ');
  const options: OperationObject = {
    operationId: `${name}Options`,
    summary: 'List the allowed methods',
    tags: [...new Set(Object.values(operations).flatMap((operation: OperationObject) => operation.tags))],
    responses: {
      '204': { description: 'No body; `Allow` lists the methods.', headers: { 'X-Request-Id': REQUEST_ID_HEADER, Allow: allowHeader(allow) } },
    },
  };
  return { ...(parameters.length > 0 && { parameters }), ...operations, options };
}

/** Lists the methods of `Allow` for these operations: HEAD comes with GET, and OPTIONS is always there. */
export function allowedMethods(operations: Operations): string[] {
  const methods = Object.keys(operations).map((method) => method.toUpperCase());
  return [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'];
}
