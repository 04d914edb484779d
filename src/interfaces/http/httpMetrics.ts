import { Router, type RequestHandler } from 'express';
import { methodNotAllowed } from './middleware';

/** Label of requests that matched no route, so unknown URLs cannot grow the number of series. */
export const UNMATCHED_ROUTE = 'unmatched';

export type HttpRequestObservation = {
  readonly method: string;
  /** Route template in OpenAPI form, e.g. `/users/{user_id}`, or `UNMATCHED_ROUTE`. */
  readonly route: string;
  readonly status: number;
  readonly durationSeconds: number;
};

/** Port of the metrics registry for the HTTP layer, implemented in infrastructure. */
export interface HttpMetrics {
  observeHttpRequest(observation: HttpRequestObservation): void;
  /** Renders every metric in the Prometheus text format. */
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
}

/** Times every request and records it by method, route template and status when the response is sent. */
export function measureRequests(metrics: HttpMetrics): RequestHandler {
  return (request, response, next) => {
    const startedAt = process.hrtime.bigint();
    response.on('finish', () => {
      const routePath = (request.route as { path?: unknown } | undefined)?.path;
      metrics.observeHttpRequest({
        method: request.method,
        route: typeof routePath === 'string' ? toOpenApiTemplate(routePath) : UNMATCHED_ROUTE,
        status: response.statusCode,
        durationSeconds: Number(process.hrtime.bigint() - startedAt) / 1e9,
      });
    });
    next();
  };
}

/** Serves `GET /metrics`. */
export function metricsRoutes(metrics: HttpMetrics): Router {
  const router = Router();
  router.get('/metrics', async (_request, response) => {
    const { contentType, body } = await metrics.render();
    response.setHeader('Content-Type', contentType);
    response.send(body);
  });
  router.all('/metrics', methodNotAllowed(['GET']));
  return router;
}

/** Turns Express's `/users/:user_id` into OpenAPI's `/users/{user_id}`. */
function toOpenApiTemplate(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
