import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { TestResponse } from './testApp';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/src/main.js');
/** Longer than any grace period the suites configure, so only a hung process reaches it. */
const KILL_TIMEOUT_MS = 20_000;

/** Compiles src/ into dist/, as `npm start` does; call it in `beforeAll` of a suite that starts child apps. */
export function buildApp(): void {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
}

export type ChildApp = {
  readonly process: ChildProcess;
  /** 0 when the process runs without the api role. */
  readonly port: number;
  /** Every log line the process wrote to stdout, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  request(method: string, urlPath: string, body?: unknown): Promise<TestResponse>;
  /**
   * Sends a signal and waits for the process to exit; returns its exit code or signal. A process
   * still running after `timeoutMs` is killed with SIGKILL and the promise rejects with its last log lines.
   */
  kill(signal: NodeJS.Signals, timeoutMs?: number): Promise<number | NodeJS.Signals | null>;
};

/**
 * Starts the compiled app (`dist/src/main.js`, built by the jest global setup) as a child
 * process, so a test can kill it with SIGKILL. Resolves once it logs that it started.
 */
export async function startChildApp(env: Record<string, string>, timeoutMs = 30_000): Promise<ChildApp> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', BCRYPT_COST: '4', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? code));
  });

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      const recent = logs.slice(-5).map((entry) => JSON.stringify(entry)).join('\n');
      reject(new Error(`child app did not start within ${timeoutMs} ms; stderr: ${stderr}; last log lines:\n${recent}`));
    }, timeoutMs);
    void exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`child app exited (${String(status)}) before it started; stderr: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'shopstream started') {
          clearTimeout(timer);
          resolve(Number(entry.port));
        }
      } catch {
        logs.push({ raw: line });
      }
    });
  });

  return {
    process: child,
    port,
    logs,
    async request(method, urlPath, body) {
      const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, text, body: parsed };
    },
    async kill(signal, timeoutMs = KILL_TIMEOUT_MS) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timed out'>((resolve) => {
        timer = setTimeout(() => resolve('timed out'), timeoutMs);
      });
      const outcome = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (outcome !== 'timed out') return outcome;

      child.kill('SIGKILL');
      await exited;
      const recent = logs.slice(-10).map((entry) => JSON.stringify(entry)).join('\n');
      throw new Error(`child app did not exit within ${timeoutMs} ms of ${signal}; stderr: ${stderr}; last log lines:\n${recent}`);
    },
  };
}
