import type { LeaseStore } from '../../../src/application/ports/LeaseStore';
import { LeasedRunner, type LeasedTask } from '../../../src/application/shared/LeasedRunner';
import { ProcessLeaseStore } from '../../../src/infrastructure/lease/ProcessLeaseStore';
import { silentLogger } from '../../support/silentLogger';

const TTL_MS = 60;

/** Builds a task whose start runs until its signal is aborted, like a long catch-up. */
function catchUpLikeTask(): LeasedTask & { started: number; stopped: number; abortedStarts: number } {
  const task = {
    started: 0,
    stopped: 0,
    abortedStarts: 0,
    start(signal: AbortSignal): Promise<void> {
      task.started++;
      return new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          task.abortedStarts++;
          resolve();
        });
      });
    },
    stop(): Promise<void> {
      task.stopped++;
      return Promise.resolve();
    },
  };
  return task;
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
}

describe('LeasedRunner', () => {
  it('stop aborts a start in progress', async () => {
    const leases: LeaseStore = new ProcessLeaseStore();
    const task = catchUpLikeTask();
    const runner = new LeasedRunner(leases, { name: 'projector', ownerId: 'one', ttlMs: TTL_MS }, task, silentLogger);

    runner.start();
    await waitFor(() => task.started === 1);
    await runner.stop();

    expect(task.abortedStarts).toBe(1);
    expect(task.stopped).toBe(1);
    expect(await leases.tryAcquire('projector', 'other', TTL_MS)).toBe(true);
  });

  it('losing the lease aborts the start', async () => {
    let renewals = 0;
    const leases: LeaseStore = {
      tryAcquire: () => Promise.resolve(true),
      renew: () => Promise.resolve(++renewals < 2),
      release: () => Promise.resolve(true),
    };
    const task = catchUpLikeTask();
    const runner = new LeasedRunner(leases, { name: 'relay', ownerId: 'one', ttlMs: TTL_MS }, task, silentLogger);

    runner.start();
    await waitFor(() => task.stopped === 1);
    expect(task.abortedStarts).toBe(1);
    await runner.stop();
  });

  it('stop without the lease leaves the task alone', async () => {
    const leases: LeaseStore = new ProcessLeaseStore();
    expect(await leases.tryAcquire('projector', 'holder', TTL_MS)).toBe(true);
    const task = catchUpLikeTask();
    const runner = new LeasedRunner(leases, { name: 'projector', ownerId: 'standby', ttlMs: TTL_MS }, task, silentLogger);

    runner.start();
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    await runner.stop();

    expect(task.started).toBe(0);
    expect(task.stopped).toBe(0);
    expect(runner.isHolder()).toBe(false);
  });
});
