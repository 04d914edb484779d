import type { Request, Response } from 'express';
import type { IdGenerator } from '../../application/ports/IdGenerator';
import type { Logger } from '../../application/ports/Logger';
import type { ProjectionWaiter } from '../../application/projection/ProjectionProgress';
import type { CommandContext } from '../../application/shared/CommandContext';
import type { WriteResult } from '../../application/shared/WriteResult';
import { HttpError } from './httpErrors';

/** Largest accepted request body; a product description of 5000 four-byte characters fits. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export type WriteSupport = {
  readonly ids: IdGenerator;
  readonly projection: ProjectionWaiter;
  readonly readYourWritesTimeoutMs: number;
  readonly logger: Logger;
};

/** Builds the command context from the request: request id, a new causation id, and `If-Match`. */
export function commandContext(request: Request, ids: IdGenerator): CommandContext {
  const expectedRevision = parseIfMatch(request.get('if-match'));
  return {
    correlationId: request.requestId,
    causationId: ids.newId(),
    ...(expectedRevision !== undefined && { expectedRevision }),
  };
}

/**
 * Waits until the projector has applied the command's events, so a GET right after the
 * response finds them. After the timeout the response is sent anyway: the write is durable,
 * only the read model lags, and that is logged.
 */
export async function awaitProjection(request: Request, result: WriteResult, support: WriteSupport): Promise<void> {
  if (result.position === undefined) return;
  const reached = await support.projection.waitFor(result.position, support.readYourWritesTimeoutMs);
  if (!reached) {
    request.log.warn(
      { position: result.position.toString(), timeoutMs: support.readYourWritesTimeoutMs },
      'projector did not reach the write in time; answering anyway',
    );
  }
}

/** Sets the `ETag` to the stream revision, as a strong validator. */
export function setETag(response: Response, revision: bigint | number | undefined): void {
  if (revision !== undefined) response.setHeader('ETag', `"${revision.toString()}"`);
}

/** `If-Match: "3"` means revision 3; `*` means any existing revision; anything else cannot match. */
function parseIfMatch(header: string | undefined): bigint | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^"(0|[1-9][0-9]{0,18})"$/.exec(header.trim());
  if (match?.[1] === undefined) {
    throw new HttpError(
      412,
      'precondition_failed',
      `If-Match ${header} is not an entity tag of this API; send the ETag header of a GET as it is, quotes included, e.g. If-Match: "3"`,
    );
  }
  return BigInt(match[1]);
}

/** Responds 201 with `Location` and `ETag`, and the body the specification gives, plus the new id. */
export function sendCreated(response: Response, collectionPath: string, statusText: string, result: WriteResult): void {
  setETag(response, result.revision);
  response.status(201).location(`${collectionPath}/${result.id}`).json({ status: statusText, id: result.id });
}
