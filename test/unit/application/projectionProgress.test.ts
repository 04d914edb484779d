import { ProjectionProgress } from '../../../src/application/projection/ProjectionProgress';

/** Long enough never to expire during a passing test, so only an advance can settle the wait. */
const NO_TIMEOUT_MS = 10_000;
const SHORT_TIMEOUT_MS = 20;

describe('ProjectionProgress', () => {
  it('starts without checkpoint', () => {
    expect(new ProjectionProgress().current()).toBeUndefined();
  });

  it('resolves when advanced to position', async () => {
    const progress = new ProjectionProgress();
    const waiting = progress.waitFor(5n, NO_TIMEOUT_MS);

    progress.advance(5n);

    await expect(waiting).resolves.toBe(true);
  });

  it('resolves when advanced past position', async () => {
    const progress = new ProjectionProgress();
    const waiting = progress.waitFor(5n, NO_TIMEOUT_MS);

    progress.advance(9n);

    await expect(waiting).resolves.toBe(true);
  });

  it('resolves at once when already reached', async () => {
    const progress = new ProjectionProgress();
    progress.advance(7n);

    await expect(progress.waitFor(7n, 0)).resolves.toBe(true);
    await expect(progress.waitFor(3n, 0)).resolves.toBe(true);
  });

  it('keeps waiting below position', async () => {
    const progress = new ProjectionProgress();
    const waiting = progress.waitFor(5n, NO_TIMEOUT_MS);
    let settled = false;
    void waiting.then(() => {
      settled = true;
    });

    progress.advance(4n);
    await new Promise((resolve) => setImmediate(resolve));

    expect(settled).toBe(false);
    progress.advance(5n);
    await expect(waiting).resolves.toBe(true);
  });

  it('resolves false on timeout', async () => {
    const progress = new ProjectionProgress();
    progress.advance(1n);

    await expect(progress.waitFor(2n, SHORT_TIMEOUT_MS)).resolves.toBe(false);
  });

  it('resolves false without any checkpoint', async () => {
    await expect(new ProjectionProgress().waitFor(1n, SHORT_TIMEOUT_MS)).resolves.toBe(false);
  });

  it('releases only reached waiters', async () => {
    const progress = new ProjectionProgress();
    const near = progress.waitFor(2n, NO_TIMEOUT_MS);
    const far = progress.waitFor(8n, SHORT_TIMEOUT_MS);

    progress.advance(3n);

    await expect(near).resolves.toBe(true);
    await expect(far).resolves.toBe(false);
  });

  it('survives advance after timeout', async () => {
    const progress = new ProjectionProgress();
    await expect(progress.waitFor(2n, SHORT_TIMEOUT_MS)).resolves.toBe(false);

    progress.advance(2n);

    expect(progress.current()).toBe(2n);
  });

  it('never moves backwards', () => {
    const progress = new ProjectionProgress();
    progress.advance(10n);

    progress.advance(4n);
    expect(progress.current()).toBe(10n);
    progress.advance(10n);
    expect(progress.current()).toBe(10n);
    progress.advance(11n);
    expect(progress.current()).toBe(11n);
  });

  it('handles positions beyond 2^53', async () => {
    const progress = new ProjectionProgress();
    const position = 2n ** 63n + 1n;
    const waiting = progress.waitFor(position, NO_TIMEOUT_MS);

    progress.advance(position - 1n);
    expect(progress.current()).toBe(position - 1n);
    progress.advance(position);

    await expect(waiting).resolves.toBe(true);
  });

  it('forgets checkpoint on reset', async () => {
    const progress = new ProjectionProgress();
    progress.advance(10n);

    progress.reset();

    expect(progress.current()).toBeUndefined();
    progress.advance(3n);
    expect(progress.current()).toBe(3n);
    await expect(progress.waitFor(5n, SHORT_TIMEOUT_MS)).resolves.toBe(false);
  });
});
