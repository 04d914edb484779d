/** Streams.Delete (soft delete) and Streams.Tombstone (hard delete) handlers. */
import type { DeleteOutcome, EventLog, Expectation } from './eventLog';
import { readExpectation, streamDeletedError, wrongExpectedVersionError } from './expectations';
import type { GrpcJs, StreamsPb } from './protocol';
import { grpc, readStreamName, streamsPb } from './protocol';

type UnaryCallback<Response> = (error: Partial<GrpcJs.ServiceError> | null, response?: Response) => void;

export function createDeleteHandler(log: EventLog): GrpcJs.handleUnaryCall<StreamsPb.DeleteReq, StreamsPb.DeleteResp> {
  return (call, callback) => {
    const options = call.request.getOptions();
    if (options === undefined) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: 'Delete request without options' });
      return;
    }

    const streamName = readStreamName(options.getStreamIdentifier());
    const expectation = readExpectation(options);
    const outcome = log.softDelete(streamName, expectation);
    reply(streamName, expectation, outcome, callback, (commit, prepare) => {
      const position = new streamsPb.DeleteResp.Position();
      position.setCommitPosition(commit);
      position.setPreparePosition(prepare);
      return new streamsPb.DeleteResp().setPosition(position);
    });
  };
}

export function createTombstoneHandler(log: EventLog): GrpcJs.handleUnaryCall<StreamsPb.TombstoneReq, StreamsPb.TombstoneResp> {
  return (call, callback) => {
    const options = call.request.getOptions();
    if (options === undefined) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: 'Tombstone request without options' });
      return;
    }

    const streamName = readStreamName(options.getStreamIdentifier());
    const expectation = readExpectation(options);
    const outcome = log.tombstone(streamName, expectation);
    reply(streamName, expectation, outcome, callback, (commit, prepare) => {
      const position = new streamsPb.TombstoneResp.Position();
      position.setCommitPosition(commit);
      position.setPreparePosition(prepare);
      return new streamsPb.TombstoneResp().setPosition(position);
    });
  };
}

function reply<Response>(
  streamName: string,
  expectation: Expectation,
  outcome: DeleteOutcome,
  callback: UnaryCallback<Response>,
  createResponse: (commit: string, prepare: string) => Response,
): void {
  switch (outcome.kind) {
    case 'stream_deleted':
      callback(streamDeletedError(streamName));
      return;
    case 'wrong_expected_version':
      callback(wrongExpectedVersionError(streamName, expectation, outcome.currentRevision));
      return;
    case 'success': {
      const position = outcome.position.toString(10);
      callback(null, createResponse(position, position));
    }
  }
}
