import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

export type ChildServer = {
  readonly port: number;
  /** Process id of the child, e.g. to read its memory use from /proc. */
  readonly pid: number;
  /** Sends SIGTERM and waits for the process to exit, killing it after 10 s. */
  stop(): Promise<void>;
};

/** Default time a child has to log its start line. An app with a long log to replay needs more (see `startTimeoutMs`). */
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** Starts the baseline Express server (compiled next to this file). */
export function startBaselineServer(): Promise<ChildServer> {
  return startChild(path.join(__dirname, 'baselineServer.js'), {}, 'baseline server started');
}

/** Starts the compiled app, `dist/src/main.js`, with the environment given on top of PATH only. */
export function startShopstream(env: Record<string, string>, startTimeoutMs = START_TIMEOUT_MS): Promise<ChildServer> {
  return startChild(path.join(__dirname, '..', 'src', 'main.js'), env, 'shopstream started', startTimeoutMs);
}

/** Spawns a Node script and resolves once it logs a JSON line whose `msg` is `startedMessage`, with its `port`. */
function startChild(script: string, env: Record<string, string>, startedMessage: string, startTimeoutMs = START_TIMEOUT_MS): Promise<ChildServer> {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return new Promise<ChildServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not log "${startedMessage}" within ${startTimeoutMs} ms; stderr: ${stderr}`));
    }, startTimeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before it started (exit code ${String(child.exitCode)}); stderr: ${stderr}`));
    });

    let started = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      // The app logs every request, so after the start only error and fatal lines (pino levels 50
      // and 60) are parsed, keeping the load generator's process from spending its CPU on logs.
      if (started && !/"level":[56]0/.test(line)) return;
      const entry = parseJsonLine(line);
      if (!started && entry?.msg === startedMessage) {
        started = true;
        clearTimeout(timer);
        // A child that logged a line was spawned, so it has a pid.
        resolve({ port: Number(entry.port), pid: child.pid ?? -1, stop: () => stopChild(child, exited) });
      } else if (entry !== undefined && typeof entry.level === 'number' && entry.level >= 50) {
        process.stderr.write(`child ${path.basename(script)}: ${line}\n`);
      }
    });
  });
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function parseJsonLine(line: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
