/**
 * Streams.BatchAppend: one long-lived duplex stream per client connection, carrying many
 * writes identified by correlation id, each split over requests until `is_final`. The client
 * takes this path only when ServerFeatures advertises it.
 */
import type { EventLog, Expectation, ProposedEvent } from './eventLog';
import { readBatchExpectation, readProposedEvent } from './expectations';
import type { GrpcJs, StreamsPb } from './protocol';
import { anyPb, createStreamIdentifier, emptyPb, grpc, readStreamName, readUuid, sharedPb, statusPb, streamsPb } from './protocol';

type PendingBatch = { options: StreamsPb.BatchAppendReq.Options | undefined; events: ProposedEvent[]; missing?: string[] };

export function createBatchAppendHandler(
  log: EventLog,
): GrpcJs.handleBidiStreamingCall<StreamsPb.BatchAppendReq, StreamsPb.BatchAppendResp> {
  return (call) => {
    const pending = new Map<string, PendingBatch>();

    call.on('data', (request: StreamsPb.BatchAppendReq) => {
      const correlationId = readUuid(request.getCorrelationId()) ?? '';
      const batch = pending.get(correlationId) ?? { options: undefined, events: [] };
      pending.set(correlationId, batch);
      if (request.hasOptions()) {
        batch.options = request.getOptions();
      }
      for (const message of request.getProposedMessagesList()) {
        const event = readProposedEvent(message);
        if ('missing' in event) {
          batch.missing = event.missing;
        } else {
          batch.events.push(event);
        }
      }
      if (!request.getIsFinal()) {
        return;
      }

      pending.delete(correlationId);
      const response = completeBatch(log, correlationId, batch);
      // Stop reading requests until the client takes the replies already queued.
      if (!call.write(response)) {
        call.pause();
        call.once('drain', () => call.resume());
      }
    });
    call.on('end', () => call.end());
    call.on('error', () => pending.clear());
  };
}

function completeBatch(log: EventLog, correlationId: string, batch: PendingBatch): StreamsPb.BatchAppendResp {
  const response = new streamsPb.BatchAppendResp();
  const correlation = new sharedPb.UUID();
  correlation.setString(correlationId);
  response.setCorrelationId(correlation);
  const options = batch.options;
  if (options === undefined) {
    return response.setError(badRequest('Batch append without options'));
  }

  const streamName = readStreamName(options.getStreamIdentifier());
  const expectation = readBatchExpectation(options);
  // The client reads the stream name from every error reply, so it is always set.
  response.setStreamIdentifier(createStreamIdentifier(streamName));
  echoExpectation(response, expectation);
  if (batch.missing !== undefined) {
    return response.setError(badRequest(`Required metadata properties are missing: ${batch.missing.join(', ')}`));
  }

  const outcome = log.append(streamName, expectation, batch.events);
  switch (outcome.kind) {
    case 'stream_deleted': {
      const detail = new sharedPb.StreamDeleted();
      detail.setStreamIdentifier(createStreamIdentifier(streamName));
      return response.setError(createStatus(grpc.status.FAILED_PRECONDITION, 'Stream deleted', detail, 'event_store.client.StreamDeleted'));
    }
    case 'wrong_expected_version': {
      const detail = toWrongExpectedVersionDetail(expectation, outcome.currentRevision);
      return response.setError(createStatus(grpc.status.FAILED_PRECONDITION, 'Wrong expected version', detail, 'event_store.client.WrongExpectedVersion'));
    }
    case 'success':
      return response.setSuccess(toBatchSuccess(outcome.currentRevision, outcome.position));
  }
}

function toBatchSuccess(currentRevision: bigint | undefined, position: bigint | undefined): StreamsPb.BatchAppendResp.Success {
  const success = new streamsPb.BatchAppendResp.Success();
  if (currentRevision === undefined) {
    success.setNoStream(new emptyPb.Empty());
  } else {
    success.setCurrentRevision(currentRevision.toString(10));
  }
  if (position === undefined) {
    success.setNoPosition(new emptyPb.Empty());
  } else {
    const allPosition = new sharedPb.AllStreamPosition();
    allPosition.setCommitPosition(position.toString(10));
    allPosition.setPreparePosition(position.toString(10));
    success.setPosition(allPosition);
  }
  return success;
}

function toWrongExpectedVersionDetail(expectation: Expectation, currentRevision: bigint | undefined) {
  const detail = new sharedPb.WrongExpectedVersion();
  if (currentRevision === undefined) {
    detail.setCurrentNoStream(new emptyPb.Empty());
  } else {
    detail.setCurrentStreamRevision(currentRevision.toString(10));
  }
  switch (expectation.kind) {
    case 'any':
      detail.setExpectedAny(new emptyPb.Empty());
      break;
    case 'no_stream':
      detail.setExpectedNoStream(new emptyPb.Empty());
      break;
    case 'stream_exists':
      detail.setExpectedStreamExists(new emptyPb.Empty());
      break;
    case 'revision':
      detail.setExpectedStreamPosition(expectation.revision.toString(10));
  }
  return detail;
}

function echoExpectation(response: StreamsPb.BatchAppendResp, expectation: Expectation): void {
  switch (expectation.kind) {
    case 'any':
      response.setAny(new emptyPb.Empty());
      return;
    case 'no_stream':
      response.setNoStream(new emptyPb.Empty());
      return;
    case 'stream_exists':
      response.setStreamExists(new emptyPb.Empty());
      return;
    case 'revision':
      response.setStreamPosition(expectation.revision.toString(10));
  }
}

function badRequest(message: string) {
  const detail = new sharedPb.BadRequest();
  detail.setMessage(message);
  return createStatus(grpc.status.INVALID_ARGUMENT, message, detail, 'event_store.client.BadRequest');
}

/**
 * Builds a google.rpc.Status. The client reads `details` of every error reply without checking
 * that it is set, and picks its error class by the type name packed into it.
 */
function createStatus(code: GrpcJs.status, message: string, detail: { serializeBinary(): Uint8Array }, typeName: string) {
  const status = new statusPb.Status();
  status.setCode(code as number);
  status.setMessage(message);
  const packed = new anyPb.Any();
  packed.pack(detail.serializeBinary(), typeName);
  status.setDetails(packed);
  return status;
}
