import type { ReadModelStore } from '../ports/ReadModelStore';
import type { ProjectionProgress, ProjectionWaiter } from './ProjectionProgress';

/** How often the stored checkpoint is read while a command waits for it, in milliseconds. */
const POLL_INTERVAL_MS = 10;

/**
 * Waits on the projector checkpoint stored with shared read models (MongoDB), so a command
 * answered by one instance is visible on every instance's GET, whichever instance projects.
 * When this instance is the projector, its in-process progress answers without polling.
 */
export class CheckpointWaiter implements ProjectionWaiter {
  constructor(
    private readonly readModels: ReadModelStore,
    private readonly localProgress: ProjectionProgress,
  ) {}

  current(): bigint | undefined {
    return this.localProgress.current();
  }

  async waitFor(position: bigint, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const local = this.localProgress.waitFor(position, timeoutMs);
    let reachedLocally = false;
    void local.then((reached) => {
      reachedLocally = reached;
    });

    for (;;) {
      if (reachedLocally) return true;
      const checkpoint = await this.readModels.getCheckpoint();
      if (checkpoint !== undefined && checkpoint >= position) return true;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      await Promise.race([local, new Promise((resolve) => setTimeout(resolve, Math.min(POLL_INTERVAL_MS, remaining)))]);
    }
  }
}
