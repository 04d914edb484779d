import { pathItem } from './pathItems';
import { jsonResponse, REQUEST_ID_HEADER, SERVER_ERROR } from './responses';
import { ref, type PathItemObject, type ResponseObject } from './types';

function textResponse(description: string, mediaType: string): ResponseObject {
  return { description, headers: { 'X-Request-Id': REQUEST_ID_HEADER }, content: { [mediaType]: { schema: { type: 'string' } } } };
}

/** Health, metrics and the API description itself. */
export const operationsPaths: Readonly<Record<string, PathItemObject>> = {
  '/health/live': pathItem('liveness', {
    get: {
      operationId: 'getLiveness',
      summary: 'Liveness',
      description: 'Returns 200 while the process serves HTTP. It checks no dependency.',
      tags: ['operations'],
      responses: { '200': jsonResponse('The process is alive.', ref('Liveness')), '500': SERVER_ERROR },
    },
  }),
  '/health/ready': pathItem('readiness', {
    get: {
      operationId: 'getReadiness',
      summary: 'Readiness',
      description: 'Reports each dependency and the lag of the projector and the outbox relay.',
      tags: ['operations'],
      responses: {
        '200': jsonResponse('Ready.', ref('ReadinessReport')),
        '500': SERVER_ERROR,
        '503': jsonResponse('Not ready; the report says why. No `Retry-After`.', ref('ReadinessReport')),
      },
    },
  }),
  '/metrics': pathItem('metrics', {
    get: {
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      description:
        'Prometheus text exposition format 0.0.4: request durations by route template, events appended by type, ' +
        'projector and relay lag, published and confirmed messages, resubscriptions, broker reconnects, errors, ' +
        'and the Node.js process metrics. The README lists every series.',
      tags: ['operations'],
      responses: { '200': textResponse('The metrics of this process.', 'text/plain'), '500': SERVER_ERROR },
    },
  }),
  '/openapi.json': pathItem('apiDescription', {
    get: {
      operationId: 'getApiDescription',
      summary: 'This API description',
      tags: ['operations'],
      responses: {
        '200': jsonResponse('The OpenAPI 3.1 document.', {
          type: 'object',
          required: ['openapi', 'info', 'paths', 'components'],
          properties: { openapi: { const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' }, components: { type: 'object' } },
        }),
        '500': SERVER_ERROR,
      },
    },
  }),
  '/docs': pathItem('apiDocs', {
    get: {
      operationId: 'getApiDocs',
      summary: 'This API description as an HTML page',
      description: 'A self-contained page: it loads nothing from other hosts.',
      tags: ['operations'],
      responses: { '200': textResponse('The HTML page.', 'text/html'), '500': SERVER_ERROR },
    },
  }),
};
