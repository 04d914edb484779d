import { HealthService, type LeasedWorker } from '../../../src/application/health/HealthService';
import type { OutboxRelay } from '../../../src/application/outbox/OutboxRelay';
import type { EventStore, ReadAllOptions, RecordedEvent } from '../../../src/application/ports/EventStore';
import type { MessagePublisher } from '../../../src/application/ports/MessagePublisher';
import type { ReadModelStore } from '../../../src/application/ports/ReadModelStore';
import type { Projector } from '../../../src/application/projection/Projector';
import type { LeasedRunner } from '../../../src/application/shared/LeasedRunner';

const THRESHOLD_MS = 1000;

/** A log, a projector checkpoint, a relay checkpoint and a clock that the tests move by hand. */
class Fixture {
  readonly events: RecordedEvent[] = [];
  projectorCheckpoint: bigint | undefined;
  relayCheckpoint: bigint | undefined;
  projectorHolder = true;
  nowMs = 1_000_000;
  readonly readAllAfter: Array<bigint | undefined> = [];

  append(streamId: string): bigint {
    const position = BigInt(this.events.length + 1);
    this.events.push({ id: `event-${position}`, streamId, type: 'Test', revision: 0n, position, data: {}, metadata: {}, recordedAt: new Date(this.nowMs) });
    return position;
  }

  health(): HealthService {
    const eventStore = {
      headPosition: () => Promise.resolve(this.events.at(-1)?.position),
      readAll: ({ after, maxCount }: ReadAllOptions) => {
        this.readAllAfter.push(after);
        return Promise.resolve(this.events.filter((event) => after === undefined || event.position > after).slice(0, maxCount));
      },
    } as unknown as EventStore;
    const readModels = { getCheckpoint: () => Promise.resolve(this.projectorCheckpoint) } as unknown as ReadModelStore;
    const publisher = { isConnected: () => true } as unknown as MessagePublisher;
    const workerStatus = { state: 'running', consecutiveFailures: 0, lastError: undefined, resubscriptions: 0 };
    const projector = {
      worker: { status: () => workerStatus } as unknown as Projector,
      runner: { isHolder: () => this.projectorHolder } as unknown as LeasedRunner,
    } satisfies LeasedWorker<Projector>;
    const relay = {
      worker: { status: () => ({ ...workerStatus, checkpoint: this.relayCheckpoint, messagesPublished: 0 }) } as unknown as OutboxRelay,
      runner: { isHolder: () => true } as unknown as LeasedRunner,
    } satisfies LeasedWorker<OutboxRelay>;

    return new HealthService(eventStore, readModels, publisher, projector, relay, {
      stallThresholdMs: THRESHOLD_MS,
      streamPrefixes: { projector: ['user-', 'order-'], relay: ['order-'] },
      now: () => this.nowMs,
    });
  }
}

describe('HealthService stall detection', () => {
  it('reports stuck projector after threshold', async () => {
    const fixture = new Fixture();
    fixture.projectorCheckpoint = fixture.append('user-1');
    fixture.append('user-2');
    const health = fixture.health();

    const first = await health.readiness();
    fixture.nowMs += THRESHOLD_MS - 1;
    const justBefore = await health.readiness();
    fixture.nowMs += 1;
    const atThreshold = await health.readiness();

    expect(first.projector.stalled).toBe(false);
    expect(first.status).toBe('ready');
    expect(justBefore.projector.stalled).toBe(false);
    expect(justBefore.status).toBe('ready');
    expect(atThreshold.projector.stalled).toBe(true);
    expect(atThreshold.status).toBe('not_ready');
  });

  it('clears stall when checkpoint advances', async () => {
    const fixture = new Fixture();
    fixture.projectorCheckpoint = fixture.append('user-1');
    const pending = fixture.append('user-2');
    const health = fixture.health();
    await health.readiness();
    fixture.nowMs += THRESHOLD_MS;
    expect((await health.readiness()).projector.stalled).toBe(true);

    fixture.projectorCheckpoint = pending;
    const recovered = await health.readiness();

    expect(recovered.projector.stalled).toBe(false);
    expect(recovered.status).toBe('ready');
  });

  it('ignores long idle before a new event', async () => {
    const fixture = new Fixture();
    fixture.projectorCheckpoint = fixture.append('user-1');
    const health = fixture.health();
    await health.readiness();
    fixture.nowMs += THRESHOLD_MS * 10;
    await health.readiness();

    fixture.append('user-2');
    const report = await health.readiness();

    expect(report.projector.stalled).toBe(false);
    expect(report.status).toBe('ready');
  });

  it('ignores events of other streams', async () => {
    const fixture = new Fixture();
    fixture.relayCheckpoint = fixture.append('order-1');
    fixture.projectorCheckpoint = fixture.append('user-1');
    const health = fixture.health();

    await health.readiness();
    fixture.nowMs += THRESHOLD_MS * 2;
    const report = await health.readiness();

    expect(report.relay.lag).toBe('1');
    expect(report.relay.stalled).toBe(false);
  });

  it('keeps ready with stalled relay', async () => {
    const fixture = new Fixture();
    fixture.relayCheckpoint = fixture.append('order-1');
    fixture.projectorCheckpoint = fixture.append('order-2');
    const health = fixture.health();

    await health.readiness();
    fixture.nowMs += THRESHOLD_MS;
    const report = await health.readiness();

    expect(report.relay.stalled).toBe(true);
    expect(report.projector.stalled).toBe(false);
    expect(report.status).toBe('ready');
  });

  it('never reports standby worker stalled', async () => {
    const fixture = new Fixture();
    fixture.projectorHolder = false;
    fixture.projectorCheckpoint = fixture.append('user-1');
    fixture.append('user-2');
    const health = fixture.health();

    await health.readiness();
    fixture.nowMs += THRESHOLD_MS * 2;
    const report = await health.readiness();

    expect(report.projector.role).toBe('standby');
    expect(report.projector.stalled).toBe(false);
    expect(report.status).toBe('ready');
  });

  it('reports stall without checkpoint', async () => {
    const fixture = new Fixture();
    fixture.append('user-1');
    const health = fixture.health();

    await health.readiness();
    fixture.nowMs += THRESHOLD_MS;
    const report = await health.readiness();

    expect(report.projector.checkpoint).toBeNull();
    expect(report.projector.stalled).toBe(true);
  });

  it('resumes scan where last one stopped', async () => {
    const fixture = new Fixture();
    fixture.projectorHolder = false;
    fixture.relayCheckpoint = fixture.append('order-1');
    fixture.append('user-2');
    const scannedTo = fixture.append('user-3');
    const health = fixture.health();
    await health.readiness();

    fixture.append('order-4');
    await health.readiness();
    fixture.nowMs += THRESHOLD_MS;
    const report = await health.readiness();

    expect(fixture.readAllAfter).toEqual([fixture.relayCheckpoint, scannedTo]);
    expect(report.relay.stalled).toBe(true);
  });
});
