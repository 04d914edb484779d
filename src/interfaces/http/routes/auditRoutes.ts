import { Router, type Response } from 'express';
import { toEventRecord, toVerificationRecord } from '../../../application/audit/auditRecords';
import { AUDITED_RESOURCES, type AuditService, type StreamHistory } from '../../../application/audit/AuditService';
import type { ViewRecord } from '../../../application/ports/ReadModelStore';
import { parseHistoryQuery } from '../auditQueries';
import { methodNotAllowed } from '../middleware';
import { setETag } from '../routeSupport';
import { parseIdParam } from '../validation';

/** `GET /users/{id}/history`, `/products/{id}/history` and `/orders/{id}/history`, read from the event store. */
export function auditRoutes(audit: AuditService): Router {
  const router = Router();

  for (const resource of AUDITED_RESOURCES) {
    const idParam = `${resource}_id`;
    const historyPath = `/${resource}s/:${idParam}/history`;

    router.get(historyPath, async (request, response) => {
      const id = parseIdParam(idParam, request.params[idParam]);
      const { verify } = parseHistoryQuery(request.query);

      const history = await audit.history(resource, id, { verify });

      response.json(toHistoryBody(id, history));
    });
    router.all(historyPath, methodNotAllowed(['GET']));
  }

  return router;
}

/** Sends an order's past state: the body GET returns, with the revision it reflects in `ETag` and `X-Revision`. */
export function sendOrderState(response: Response, record: ViewRecord<'orders'>): void {
  setETag(response, record.revision);
  response.setHeader('X-Revision', String(record.revision));
  response.json(record.view);
}

function toHistoryBody(id: number, history: StreamHistory): object {
  return {
    id,
    stream: history.streamId,
    events: history.events.map(toEventRecord),
    ...(history.verification !== undefined && { verification: toVerificationRecord(history.verification) }),
  };
}
