import bcrypt from 'bcrypt';
import type { FigureSet } from './figures';
import { CONNECTIONS, REGISTRATIONS_PER_BURST, RUNS } from './httpBenchmarks';

export const FIGURE = {
  bcrypt: `bcrypt hashes with the thread pool saturated (${CONNECTIONS} in flight), hashes/s`,
} as const;

/**
 * Hashes REGISTRATIONS_PER_BURST passwords at `cost` with CONNECTIONS in flight, more than
 * libuv's thread pool has threads, so every pool thread stays busy: the ceiling of registrations.
 */
export async function measureBcrypt(figures: FigureSet, cost: number): Promise<void> {
  await bcrypt.hash('warm-up-password', cost);
  for (let run = 1; run <= RUNS; run += 1) {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < REGISTRATIONS_PER_BURST) {
        next += 1;
        await bcrypt.hash(`bench-password-${next}`, cost);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    const rate = (REGISTRATIONS_PER_BURST * 1000) / (performance.now() - started);
    figures.record(FIGURE.bcrypt, 'hashes/s', rate);
    console.log(`${FIGURE.bcrypt}: run ${run}: ${rate.toFixed(1)}`);
  }
}
