import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { connect as connectAmqp } from 'amqplib';
import type { ConsumeMessage } from 'amqplib';

/** The machine's shared RabbitMQ. Tests use it only inside a vhost they create and delete. */
export const RABBITMQ_HOST = '127.0.0.1';
export const RABBITMQ_PORT = 5672;

const AVAILABILITY_TIMEOUT_MS = 1_000;
const RABBITMQCTL_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 20;

const execFileAsync = promisify(execFile);

/** Returns whether a TCP connection to RabbitMQ's AMQP port opens within the timeout. */
export function rabbitMqAvailable(timeoutMs = AVAILABILITY_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: RABBITMQ_HOST, port: RABBITMQ_PORT });
    const finish = (available: boolean): void => {
      socket.destroy();
      resolve(available);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Returns true when RabbitMQ and `rabbitmqctl` are available. Otherwise prints the reason and
 * returns false, or throws when `CI=true`, where a missing broker is a failure, not a skip.
 */
export async function requireRabbitMq(): Promise<boolean> {
  return passOrSkip(await rabbitMqAvailable() ? missingRabbitmqctlReason() : unreachableReason());
}

/**
 * Declares a jest `describe` block that needs RabbitMQ: it runs when RabbitMQ is reachable, is
 * skipped with a printed reason when it is not, and fails when it is not and `CI=true`.
 */
export function describeWithRabbitMq(name: string, fn: () => void): void {
  // jest collects tests synchronously, so the reachability check must be synchronous too.
  const reason = rabbitMqAvailableSync() ? missingRabbitmqctlReason() : unreachableReason();
  if (reason === undefined) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('requires RabbitMQ', () => {
        throw new Error(`${reason} (CI=true, so this fails instead of skipping)`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": ${reason}`);
  describe.skip(name, fn);
}

export type TestVhost = {
  readonly vhost: string;
  /** AMQP URL for guest/guest on this vhost. */
  readonly url: string;
  /** Deletes the vhost with its exchanges and queues. Safe to call twice. */
  remove(): Promise<void>;
};

/** Creates a vhost named `shopstream-test-<random>` with full permissions for guest. */
export async function createTestVhost(): Promise<TestVhost> {
  const vhost = `shopstream-test-${randomBytes(6).toString('hex')}`;
  await runRabbitmqctl(['add_vhost', vhost]);
  await runRabbitmqctl(['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']);

  let removal: Promise<void> | undefined;
  return {
    vhost,
    url: amqpUrl(vhost),
    remove() {
      removal ??= runRabbitmqctl(['delete_vhost', vhost]).then(() => undefined);
      return removal;
    },
  };
}

/** Builds the guest/guest AMQP URL for a vhost on the given port (RabbitMQ's by default). */
export function amqpUrl(vhost: string, port = RABBITMQ_PORT): string {
  return `amqp://guest:guest@${RABBITMQ_HOST}:${port}/${encodeURIComponent(vhost)}`;
}

/** Runs `rabbitmqctl` with the arguments and returns its stdout. */
export async function runRabbitmqctl(args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('rabbitmqctl', [...args], { timeout: RABBITMQCTL_TIMEOUT_MS });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`rabbitmqctl ${args.join(' ')} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

/** Runs a `rabbitmqctl list_*` command with `--formatter json` and returns the parsed rows. */
export async function listWithRabbitmqctl(args: readonly string[]): Promise<Record<string, unknown>[]> {
  const stdout = await runRabbitmqctl([...args, '--formatter', 'json', '--quiet']);
  return JSON.parse(stdout) as Record<string, unknown>[];
}

/** One delivery as a consumer receives it. */
export type CollectedMessage = {
  readonly body: unknown;
  readonly routingKey: string;
  readonly messageId: string | undefined;
  readonly type: string | undefined;
  readonly contentType: string | undefined;
  /** AMQP timestamp, in seconds since the epoch. */
  readonly timestamp: number | undefined;
  readonly correlationId: string | undefined;
  /** 2 for persistent messages, 1 or undefined for transient ones. */
  readonly deliveryMode: number | undefined;
  readonly persistent: boolean;
};

export type MessageCollector = {
  /** Every delivery so far, in arrival order. */
  readonly messages: readonly CollectedMessage[];
  /** Polls until at least `count` messages arrived and returns them, or rejects with the count that did. */
  waitForCount(count: number, timeoutMs: number): Promise<readonly CollectedMessage[]>;
  /** Polls until a message with each of the ids arrived and returns all messages, or rejects with the ids missing. */
  waitForMessageIds(messageIds: readonly string[], timeoutMs: number): Promise<readonly CollectedMessage[]>;
  close(): Promise<void>;
};

/**
 * Consumes the queue and records every delivery. Declares the queue (durable) first, so the
 * collector can start before the code under test declares the topology.
 */
export async function collectMessages(url: string, queue: string): Promise<MessageCollector> {
  const messages: CollectedMessage[] = [];
  let failure: Error | undefined;

  const connection = await connectAmqp(url);
  connection.on('error', (error: Error) => {
    failure = error;
  });
  const channel = await connection.createChannel();
  channel.on('error', (error: Error) => {
    failure = error;
  });
  await channel.assertQueue(queue, { durable: true });
  await channel.consume(queue, (delivery) => {
    if (delivery !== null) {
      messages.push(toCollectedMessage(delivery));
    }
  }, { noAck: true });

  const poll = async (isDone: () => boolean, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!isDone() && failure === undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  };
  const describeFailure = (): string => (failure === undefined ? '' : ` (consumer failed: ${failure.message})`);
  const missingIds = (expected: readonly string[]): string[] => {
    const arrived = new Set(messages.map((message) => message.messageId));
    return expected.filter((messageId) => !arrived.has(messageId));
  };

  let closing: Promise<void> | undefined;
  return {
    messages,
    async waitForCount(count, timeoutMs) {
      await poll(() => messages.length >= count, timeoutMs);
      if (messages.length >= count) {
        return [...messages];
      }
      throw new Error(
        `expected ${count} messages on queue ${queue} within ${timeoutMs} ms, but ${messages.length} arrived${describeFailure()}`,
      );
    },
    async waitForMessageIds(messageIds, timeoutMs) {
      await poll(() => missingIds(messageIds).length === 0, timeoutMs);
      const missing = missingIds(messageIds);
      if (missing.length === 0) {
        return [...messages];
      }
      throw new Error(
        `expected ${messageIds.length} message ids on queue ${queue} within ${timeoutMs} ms, ` +
          `but ${missing.length} are missing, first ${missing[0]}${describeFailure()}`,
      );
    },
    close() {
      closing ??= connection.close().catch(() => undefined);
      return closing;
    },
  };
}

function toCollectedMessage(delivery: ConsumeMessage): CollectedMessage {
  const { properties } = delivery;
  const deliveryMode = properties.deliveryMode as number | undefined;
  return {
    body: JSON.parse(delivery.content.toString('utf8')) as unknown,
    routingKey: delivery.fields.routingKey,
    messageId: properties.messageId as string | undefined,
    type: properties.type as string | undefined,
    contentType: properties.contentType as string | undefined,
    timestamp: properties.timestamp as number | undefined,
    correlationId: properties.correlationId as string | undefined,
    deliveryMode,
    persistent: deliveryMode === 2,
  };
}

function passOrSkip(reason: string | undefined): boolean {
  if (reason === undefined) {
    return true;
  }
  if (process.env.CI === 'true') {
    throw new Error(`${reason} (CI=true, so this fails instead of skipping)`);
  }
  console.warn(`Skipping RabbitMQ tests: ${reason}`);
  return false;
}

function unreachableReason(): string {
  return `RabbitMQ is not reachable at ${RABBITMQ_HOST}:${RABBITMQ_PORT}`;
}

function missingRabbitmqctlReason(): string | undefined {
  const found = (process.env.PATH ?? '').split(delimiter).some((directory) => isExecutable(join(directory, 'rabbitmqctl')));
  return found ? undefined : 'rabbitmqctl is not on PATH, so test vhosts cannot be created';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs the TCP check in a child Node process, because jest needs the result synchronously. */
function rabbitMqAvailableSync(): boolean {
  const script = `
    const socket = require('node:net').connect({ host: ${JSON.stringify(RABBITMQ_HOST)}, port: ${RABBITMQ_PORT} });
    socket.setTimeout(${AVAILABILITY_TIMEOUT_MS}, () => process.exit(1));
    socket.once('connect', () => process.exit(0));
    socket.once('error', () => process.exit(1));
  `;
  const result = spawnSync(process.execPath, ['-e', script], { timeout: AVAILABILITY_TIMEOUT_MS * 5 });
  return result.status === 0;
}
