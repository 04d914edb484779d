/**
 * Streams.Append: one client stream per write, options first, then the events. The client
 * takes this path when ServerFeatures does not advertise Streams.BatchAppend.
 */
import type { AppendOutcome, EventLog, Expectation, ProposedEvent } from './eventLog';
import { missingMetadataError, readExpectation, readProposedEvent, streamDeletedError } from './expectations';
import type { GrpcJs, StreamsPb } from './protocol';
import { grpc, readStreamName, sharedPb, streamsPb } from './protocol';

export function createAppendHandler(log: EventLog): GrpcJs.handleClientStreamingCall<StreamsPb.AppendReq, StreamsPb.AppendResp> {
  return (call, callback) => {
    let options: StreamsPb.AppendReq.Options | undefined;
    const events: ProposedEvent[] = [];
    let missing: string[] | undefined;

    call.on('data', (request: StreamsPb.AppendReq) => {
      if (request.hasOptions()) {
        options = request.getOptions();
        return;
      }
      const proposed = request.getProposedMessage();
      const event = proposed === undefined ? { missing: ['type', 'content-type'] } : readProposedEvent(proposed);
      if ('missing' in event) {
        missing = event.missing;
      } else {
        events.push(event);
      }
    });

    call.on('end', () => {
      if (options === undefined) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: 'Append request without options' });
        return;
      }
      if (missing !== undefined) {
        callback(missingMetadataError(missing));
        return;
      }

      const streamName = readStreamName(options.getStreamIdentifier());
      const expectation = readExpectation(options);
      const outcome = log.append(streamName, expectation, events);
      if (outcome.kind === 'stream_deleted') {
        callback(streamDeletedError(streamName));
        return;
      }
      // Every reply must carry success or wrong_expected_version: an AppendResp with
      // neither leaves the client's promise pending forever.
      callback(null, toAppendResp(expectation, outcome));
    });
  };
}

function toAppendResp(expectation: Expectation, outcome: Exclude<AppendOutcome, { kind: 'stream_deleted' }>): StreamsPb.AppendResp {
  const response = new streamsPb.AppendResp();
  if (outcome.kind === 'success') {
    const success = new streamsPb.AppendResp.Success();
    if (outcome.currentRevision === undefined) {
      success.setNoStream(new sharedPb.Empty());
    } else {
      success.setCurrentRevision(outcome.currentRevision.toString(10));
    }
    if (outcome.position === undefined) {
      success.setNoPosition(new sharedPb.Empty());
    } else {
      const position = new streamsPb.AppendResp.Position();
      position.setCommitPosition(outcome.position.toString(10));
      position.setPreparePosition(outcome.position.toString(10));
      success.setPosition(position);
    }
    return response.setSuccess(success);
  }

  const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
  if (outcome.currentRevision === undefined) {
    wrong.setCurrentNoStream(new sharedPb.Empty());
  } else {
    wrong.setCurrentRevision(outcome.currentRevision.toString(10));
  }
  switch (expectation.kind) {
    case 'any':
      wrong.setExpectedAny(new sharedPb.Empty());
      break;
    case 'no_stream':
      wrong.setExpectedNoStream(new sharedPb.Empty());
      break;
    case 'stream_exists':
      wrong.setExpectedStreamExists(new sharedPb.Empty());
      break;
    case 'revision':
      wrong.setExpectedRevision(expectation.revision.toString(10));
  }
  return response.setWrongExpectedVersion(wrong);
}
