import { randomUUID } from 'node:crypto';
import type { Clock } from '../../application/ports/Clock';
import type { IdGenerator } from '../../application/ports/IdGenerator';

export const systemClock: Clock = { now: () => new Date().toISOString() };

export const uuidGenerator: IdGenerator = { newId: () => randomUUID() };
