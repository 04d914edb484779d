import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const RABBITMQCTL_TIMEOUT_MS = 30_000;

export type BenchVhost = {
  /** guest/guest AMQP URL of the vhost on the local broker. */
  readonly url: string;
  remove(): Promise<void>;
};

/** Creates a vhost `shopstream-bench-<random>` on the local RabbitMQ, with full permissions for guest. */
export async function createBenchVhost(): Promise<BenchVhost> {
  const vhost = `shopstream-bench-${randomBytes(6).toString('hex')}`;
  await rabbitmqctl(['add_vhost', vhost]);
  await rabbitmqctl(['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']);
  return {
    url: `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(vhost)}`,
    remove: () => rabbitmqctl(['delete_vhost', vhost]),
  };
}

async function rabbitmqctl(args: readonly string[]): Promise<void> {
  try {
    await execFileAsync('rabbitmqctl', [...args], { timeout: RABBITMQCTL_TIMEOUT_MS });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`rabbitmqctl ${args.join(' ')} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}
