import { Backoff } from '../../../src/application/shared/Backoff';

const OPTIONS = { initialDelayMs: 100, maxDelayMs: 1000 };

/** The jitter-free upper bounds: 100 doubling per attempt, capped at 1000. */
const CEILINGS = [100, 200, 400, 800, 1000, 1000, 1000];

describe('Backoff', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('grows to the cap', () => {
    jest.spyOn(Math, 'random').mockReturnValue(1);
    const backoff = new Backoff(OPTIONS);

    const delays = CEILINGS.map(() => backoff.nextDelayMs());

    expect(delays).toEqual(CEILINGS);
  });

  it('keeps jitter within half ceiling', () => {
    const backoff = new Backoff(OPTIONS);

    for (const ceiling of CEILINGS) {
      const delay = backoff.nextDelayMs();
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });

  it('uses lower jitter bound', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    const backoff = new Backoff(OPTIONS);

    expect([backoff.nextDelayMs(), backoff.nextDelayMs(), backoff.nextDelayMs()]).toEqual([50, 100, 200]);
  });

  it('never exceeds max after many attempts', () => {
    jest.spyOn(Math, 'random').mockReturnValue(1);
    const backoff = new Backoff(OPTIONS);

    for (let attempt = 0; attempt < 2000; attempt++) {
      expect(backoff.nextDelayMs()).toBeLessThanOrEqual(1000);
    }
  });

  it('counts attempts', () => {
    const backoff = new Backoff(OPTIONS);
    expect(backoff.attempts).toBe(0);

    backoff.nextDelayMs();
    backoff.nextDelayMs();

    expect(backoff.attempts).toBe(2);
  });

  it('resets to initial delay', () => {
    jest.spyOn(Math, 'random').mockReturnValue(1);
    const backoff = new Backoff(OPTIONS);
    for (let attempt = 0; attempt < 5; attempt++) backoff.nextDelayMs();

    backoff.reset();

    expect(backoff.attempts).toBe(0);
    expect(backoff.nextDelayMs()).toBe(100);
  });
});
