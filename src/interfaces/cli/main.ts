#!/usr/bin/env node
/**
 * The `shopstream` command-line tool for auditors and operators. It opens the event store that
 * the same environment variables as the server select (`DATA_DIR`, `EVENTSTORE_CONNECTION_STRING`)
 * and writes results to stdout, progress and logs to stderr.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EventStore } from '../../application/ports/EventStore';
import { EventStoreUnavailableError } from '../../application/ports/EventStore';
import type { LeaseStore } from '../../application/ports/LeaseStore';
import type { Logger } from '../../application/ports/Logger';
import { ReadModelUnavailableError, type ReadModelStore } from '../../application/ports/ReadModelStore';
import { openEventStore } from '../../compositionRoot';
import { NotFoundError } from '../../domain/shared/errors';
import { ConfigError, loadConfig, type Config } from '../../infrastructure/config/config';
import { createLogger } from '../../infrastructure/logging/createLogger';
import { MongoLease } from '../../infrastructure/readmodel/MongoLease';
import { MongoReadModelStore } from '../../infrastructure/readmodel/MongoReadModelStore';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type CliCommand, type CliOutput } from './cliCommand';
import { COMMANDS } from './commands';

const HELP_FLAGS = ['--help', '-h'];

/** Runs one CLI invocation and returns its exit status; `env` defaults to the process environment. */
export async function runCli(argv: readonly string[], output: CliOutput, env?: NodeJS.ProcessEnv): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    output.stderr(generalUsage());
    return EXIT_USAGE;
  }
  if (name === 'help' || HELP_FLAGS.includes(name)) return printHelp(args[0], output);

  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    output.stderr(`shopstream: unknown command ${JSON.stringify(name)}; commands: ${commandNames()}. Run "shopstream help" for usage.\n`);
    return EXIT_USAGE;
  }
  if (args.some((arg) => HELP_FLAGS.includes(arg))) {
    output.stdout(commandHelp(command));
    return EXIT_OK;
  }

  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.stderr(`shopstream: ${error.message}\n`);
    return EXIT_USAGE;
  }

  const logger = createLogger(config.logLevel, { write: (line: string) => output.stderr(line) });
  let store: Promise<EventStore> | undefined;
  try {
    return await command.run(args, {
      output,
      logger,
      eventStore: () => (store ??= openExistingEventStore(config, logger)),
      readModels: () => openMongoReadModels(config, logger),
      leaseTtlMs: config.leaseTtlMs,
    });
  } catch (error) {
    return reportFailure(command, error, output);
  } finally {
    // An open that failed was already reported through the command's error.
    await store?.then((opened) => opened.close(), () => undefined);
  }
}

/**
 * Opens the server's event store. Opening the embedded store creates a missing file, so a
 * mistyped DATA_DIR would verify an empty log as valid. The CLI rejects a missing file instead.
 */
async function openExistingEventStore(config: Config, logger: Logger): Promise<EventStore> {
  if (config.eventStoreConnectionString === undefined) {
    // The file name that openEventStore gives the embedded store.
    const file = path.join(config.dataDir, 'events.sqlite');
    if (!existsSync(file)) throw new EventStoreUnavailableError(`no event store at ${file}; set DATA_DIR to the server's data folder`);
  }
  return openEventStore(config, logger);
}

async function openMongoReadModels(config: Config, logger: Logger): Promise<{ store: ReadModelStore; leases: LeaseStore; close: () => Promise<void> }> {
  const uri = config.mongoDbUri;
  if (uri === undefined) {
    throw new UsageError('MONGODB_URI is not set; in-memory read models live inside the server and are rebuilt at every start');
  }
  const store = await MongoReadModelStore.connect(uri, { logger });
  const leases = await MongoLease.connect(uri, { logger }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  return {
    store,
    leases,
    close: async () => {
      await leases.close();
      await store.close();
    },
  };
}

function reportFailure(command: CliCommand, error: unknown, output: CliOutput): number {
  if (error instanceof UsageError) {
    output.stderr(`shopstream ${command.name}: ${error.message}\nusage: shopstream ${command.name} ${command.arguments}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof NotFoundError || error instanceof EventStoreUnavailableError || error instanceof ReadModelUnavailableError) {
    output.stderr(`shopstream ${command.name}: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  output.stderr(`shopstream ${command.name}: failed: ${message}\n`);
  return EXIT_FAILURE;
}

function printHelp(topic: string | undefined, output: CliOutput): number {
  if (topic === undefined) {
    output.stdout(generalUsage());
    return EXIT_OK;
  }
  const command = COMMANDS.find((candidate) => candidate.name === topic);
  if (command === undefined) {
    output.stderr(`shopstream: no help for ${JSON.stringify(topic)}; commands: ${commandNames()}\n`);
    return EXIT_USAGE;
  }
  output.stdout(commandHelp(command));
  return EXIT_OK;
}

function generalUsage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const lines = [
    'usage: shopstream <command> [arguments]',
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Run "shopstream help <command>" for its arguments. The event store is the one the server uses:',
    'DATA_DIR (embedded store, default ./data) or EVENTSTORE_CONNECTION_STRING. Logs go to stderr at LOG_LEVEL.',
    `Exit status: ${EXIT_OK} success, ${EXIT_FAILURE} a problem was found or the command failed, ${EXIT_USAGE} invalid arguments or configuration.`,
  ];
  return `${lines.join('\n')}\n`;
}

function commandHelp(command: CliCommand): string {
  const lines = [`usage: shopstream ${command.name} ${command.arguments}`, '', command.summary, '', ...command.details.map((line) => `  ${line}`)];
  return `${lines.join('\n')}\n`;
}

function commandNames(): string {
  return COMMANDS.map((command) => command.name).join(', ');
}

if (require.main === module) {
  // A closed pipe (`shopstream history … | head`) is a normal end, not a crash.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT_OK);
    throw error;
  });
  const output: CliOutput = { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) };
  runCli(process.argv.slice(2), output).then(
    (status) => {
      process.exitCode = status;
    },
    (error: unknown) => {
      process.stderr.write(`shopstream: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
