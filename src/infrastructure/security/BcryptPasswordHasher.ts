import { Worker } from 'node:worker_threads';
import type { Logger } from '../../application/ports/Logger';
import type { PasswordHasher } from '../../application/ports/PasswordHasher';

export type BcryptPasswordHasherOptions = {
  readonly cost: number;
  readonly logger: Logger;
  /** Hashing threads. Default: UV_THREADPOOL_SIZE or 4, as many as bcrypt's own asynchronous API would use. */
  readonly threads?: number;
  /**
   * Nice value of the hashing threads (Linux), 0 to 19. Default 19: under CPU contention the
   * scheduler then gives the event loop (nice 0) about 68 times a hashing thread's share, so
   * reads stay fast while registrations wait. An otherwise idle CPU still runs the hashes at
   * full speed. With 10 instead, the GET p99 during a registration burst was 21 ms against 17 ms
   * at 19, at the same registration rate (`npm run bench -- --only=startup`, 2 cores).
   */
  readonly niceness?: number;
};

type Task = {
  readonly password: string;
  readonly resolve: (hash: string) => void;
  readonly reject: (error: Error) => void;
};

type HashingThread = { readonly worker: Worker; task: Task | undefined };

type WorkerReply = { readonly hash: string } | { readonly error: string };

/** Hashes one password per message with bcrypt's synchronous API, in a thread of its own. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const os = require('node:os');
let priorityError;
try {
  // On Linux a thread's nice value is its own, and /proc/thread-self names the thread's id.
  const threadId = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  os.setPriority(threadId, workerData.niceness);
} catch (error) {
  priorityError = String(error && error.message || error);
}
const bcrypt = require(workerData.bcryptPath);
parentPort.postMessage({ ready: true, priorityError });
parentPort.on('message', ({ password, cost }) => {
  try {
    parentPort.postMessage({ hash: bcrypt.hashSync(password, cost) });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
});
`;

/**
 * Hashes passwords with bcrypt in worker threads that run at a lower CPU priority than the
 * event loop. bcrypt's asynchronous API uses libuv's pool at normal priority, and on a 2-core
 * machine four such threads took enough CPU from the event loop during a registration burst to
 * triple the p99 of concurrent GETs (`npm run bench`, startup step).
 */
export class BcryptPasswordHasher implements PasswordHasher {
  private readonly threads: HashingThread[] = [];
  private readonly queue: Task[] = [];
  private readonly threadCount: number;
  private readonly niceness: number;

  constructor(private readonly options: BcryptPasswordHasherOptions) {
    this.threadCount = options.threads ?? (Number(process.env.UV_THREADPOOL_SIZE) || 4);
    this.niceness = options.niceness ?? 19;
  }

  hash(password: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ password, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops the hashing threads; hashes in flight or waiting reject. */
  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    const closed = new Error('password hasher closed');
    for (const task of [...threads.flatMap((thread) => thread.task ?? []), ...this.queue.splice(0)]) task.reject(closed);
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  private dispatch(): void {
    // Threads start on the first hash, so a process that never registers a user starts none.
    while (this.threads.length < this.threadCount && this.threads.length < this.queue.length + this.busyThreads()) {
      this.threads.push(this.startThread());
    }
    for (const thread of this.threads) {
      if (thread.task !== undefined) continue;
      const task = this.queue.shift();
      if (task === undefined) return;
      thread.task = task;
      thread.worker.postMessage({ password: task.password, cost: this.options.cost });
    }
  }

  private busyThreads(): number {
    return this.threads.filter((thread) => thread.task !== undefined).length;
  }

  private startThread(): HashingThread {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { bcryptPath: require.resolve('bcrypt'), niceness: this.niceness },
    });
    // Idle hashing threads must not keep the process alive; a hash in flight belongs to a request, which does.
    worker.unref();
    const thread: HashingThread = { worker, task: undefined };

    worker.once('message', (ready: { priorityError?: string }) => {
      if (ready.priorityError !== undefined) {
        this.options.logger.warn({ err: ready.priorityError, niceness: this.niceness }, 'could not lower the priority of a password hashing thread; it runs at normal priority');
      }
      worker.on('message', (reply: WorkerReply) => this.finish(thread, reply));
    });
    worker.on('error', (error: Error) => {
      this.options.logger.error({ err: error, threadId: worker.threadId }, 'password hashing thread failed; starting another');
      this.replace(thread, error);
    });
    return thread;
  }

  private finish(thread: HashingThread, reply: WorkerReply): void {
    const task = thread.task;
    thread.task = undefined;
    if ('hash' in reply) task?.resolve(reply.hash);
    else task?.reject(new Error(`bcrypt hashing failed: ${reply.error}`));
    this.dispatch();
  }

  private replace(thread: HashingThread, error: Error): void {
    thread.task?.reject(new Error(`password hashing thread failed: ${error.message}`, { cause: error }));
    const index = this.threads.indexOf(thread);
    if (index >= 0) this.threads.splice(index, 1);
    void thread.worker.terminate();
    this.dispatch();
  }
}

