import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AuditedResource } from '../../application/audit/AuditService';
import { AUDITED_RESOURCES } from '../../application/audit/AuditService';
import type { EventStore } from '../../application/ports/EventStore';
import type { LeaseStore } from '../../application/ports/LeaseStore';
import type { Logger } from '../../application/ports/Logger';
import type { ReadModelStore } from '../../application/ports/ReadModelStore';

/** Exit statuses of the CLI. */
export const EXIT_OK = 0;
/** The command ran and found a problem (a broken hash chain, a missing stream) or failed. */
export const EXIT_FAILURE = 1;
/** Invalid arguments or configuration: nothing was checked. */
export const EXIT_USAGE = 2;

export type CliOutput = {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
};

export type CliContext = {
  readonly output: CliOutput;
  readonly logger: Logger;
  /** Opens the event store that the environment selects, on first call; the CLI closes it after the command. */
  readonly eventStore: () => Promise<EventStore>;
  /** Connects to the MongoDB read models of MONGODB_URI; the command closes them. Fails without MONGODB_URI. */
  readonly readModels: () => Promise<{ store: ReadModelStore; leases: LeaseStore; close: () => Promise<void> }>;
  readonly leaseTtlMs: number;
};

/**
 * One CLI command. To add one, write a file under `commands/` that exports a `CliCommand`, and
 * list it in `commands/index.ts`. Usage and help text are built from these fields.
 */
export type CliCommand = {
  readonly name: string;
  /** Arguments after the command name, e.g. `<order|user|product> <id> [--verify]`. */
  readonly arguments: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Lines that explain each argument and option, shown by `shopstream help <command>`. */
  readonly details: readonly string[];
  /** Returns the exit status; throws `UsageError` for invalid arguments. */
  run(args: readonly string[], context: CliContext): Promise<number>;
};

/** Invalid command-line arguments; the CLI prints the message and the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Runs `node:util` parseArgs in strict mode, turning its errors into `UsageError`. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    // Matched by code: parseArgs' errors are TypeErrors, but of Node's own realm, which instanceof misses under jest.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) throw new UsageError((error as Error).message);
    throw error;
  }
}

export function parseResource(text: string | undefined): AuditedResource {
  if (text === undefined) throw new UsageError(`missing resource; expected one of: ${AUDITED_RESOURCES.join(', ')}`);
  const resource = AUDITED_RESOURCES.find((candidate) => candidate === text);
  if (resource === undefined) throw new UsageError(`unknown resource ${JSON.stringify(text)}; expected one of: ${AUDITED_RESOURCES.join(', ')}`);
  return resource;
}

/** Parses a resource id: a positive integer no larger than 2^53 - 1, as the HTTP API accepts. */
export function parseResourceId(text: string | undefined): number {
  if (text === undefined) throw new UsageError('missing id; expected a positive integer, e.g. 1');
  const id = /^[1-9][0-9]{0,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(id)) throw new UsageError(`id must be a positive integer (got ${JSON.stringify(text)})`);
  return id;
}

export function rejectExtraPositionals(positionals: readonly string[], expected: number): void {
  const extra = positionals.slice(expected);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
}
