/**
 * JSON shapes of audit output, shared by the HTTP API and the CLI so both print the same
 * records. Revisions are small enough for JSON numbers; positions are 64-bit, so they travel
 * as decimal strings.
 */
import type { RecordedEvent } from '../ports/EventStore';
import type { ChainVerification } from './AuditService';
import type { ChainBreak } from './hashChain';

export type EventRecord = {
  readonly event_id: string;
  readonly revision: number;
  readonly position: string;
  readonly type: string;
  readonly recorded_at: string;
  readonly data: unknown;
  readonly metadata: unknown;
};

export type BrokenLinkRecord = {
  readonly revision: number;
  readonly reason: string;
  readonly expected: string | null;
  readonly actual: string | null;
};

export type VerificationRecord = { readonly valid: true } | { readonly valid: false; readonly first_broken_link: BrokenLinkRecord };

export function toEventRecord(event: RecordedEvent): EventRecord {
  return {
    event_id: event.id,
    revision: Number(event.revision),
    position: event.position.toString(),
    type: event.type,
    recorded_at: event.recordedAt.toISOString(),
    data: event.data,
    metadata: event.metadata,
  };
}

export function toBrokenLinkRecord(link: ChainBreak): BrokenLinkRecord {
  return { revision: Number(link.revision), reason: link.reason, expected: link.expected, actual: link.actual };
}

export function toVerificationRecord(verification: ChainVerification): VerificationRecord {
  return verification.valid ? { valid: true } : { valid: false, first_broken_link: toBrokenLinkRecord(verification.firstBrokenLink) };
}
