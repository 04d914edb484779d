import { rebuildReadModels, verifyReadModels } from '../../../application/projection/readModelMaintenance';
import { InMemoryReadModelStore } from '../../../infrastructure/readmodel/InMemoryReadModelStore';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, rejectExtraPositionals, type CliCommand, type CliContext } from '../cliCommand';

const PROGRESS_EVERY_EVENTS = 10_000;

export const rebuildReadModelsCommand: CliCommand = {
  name: 'rebuild-read-models',
  arguments: '',
  summary: 'drop the MongoDB read models and replay the whole log into them',
  details: [
    'Needs MONGODB_URI: in-memory read models are rebuilt at every start anyway.',
    'Takes the projector lease for the whole rebuild, so no projector writes meanwhile; it fails if another',
    'instance holds that lease (stop the projector roles, or wait LEASE_TTL_MS after they stopped).',
    'Publishes nothing: the outbox relay keeps its own checkpoint in the event store.',
  ],

  async run(args, context) {
    rejectExtraPositionals(parseCommandArgs(args, {}).positionals, 0);
    const { store, leases, close } = await context.readModels();
    const owner = `cli-rebuild-${process.pid}`;
    const ttlMs = context.leaseTtlMs;
    try {
      if (!(await leases.tryAcquire('projector', owner, ttlMs))) {
        context.output.stderr('shopstream rebuild-read-models: another instance holds the projector lease; stop the projector roles first\n');
        return EXIT_FAILURE;
      }
      const renewal = setInterval(() => void leases.renew('projector', owner, ttlMs).catch(() => undefined), Math.floor(ttlMs / 3));
      try {
        const eventsRead = await rebuildReadModels(await context.eventStore(), store, context.logger, progressPrinter(context));
        context.output.stdout(`rebuilt read models from ${eventsRead} events\n`);
        return EXIT_OK;
      } finally {
        clearInterval(renewal);
        await leases.release('projector', owner);
      }
    } finally {
      await close();
    }
  },
};

export const verifyReadModelsCommand: CliCommand = {
  name: 'verify-read-models',
  arguments: '',
  summary: 'replay the log into a scratch store and report every difference from the live read models',
  details: [
    'Needs MONGODB_URI. The scratch store is in memory, filled by the same projection code as the projector.',
    'Prints one line per difference (lagging, divergent, orphan) and a summary; exits 1 if there is any.',
  ],

  async run(args, context) {
    rejectExtraPositionals(parseCommandArgs(args, {}).positionals, 0);
    const { store, close } = await context.readModels();
    try {
      const result = await verifyReadModels(await context.eventStore(), store, new InMemoryReadModelStore(), context.logger, progressPrinter(context));
      for (const { kind, collection, id, expected, actual } of result.differences) {
        const revisions = `expected revision ${expected?.revision ?? 'none'}, live revision ${actual?.revision ?? 'none'}`;
        context.output.stdout(`${kind.toUpperCase()} ${collection}/${id}: ${revisions}\n`);
      }
      const { eventsRead, documentsCompared, differences } = result;
      const verdict = differences.length === 0 ? 'no differences' : `${differences.length} differences`;
      context.output.stdout(`compared ${documentsCompared} documents after replaying ${eventsRead} events: ${verdict}\n`);
      return differences.length === 0 ? EXIT_OK : EXIT_FAILURE;
    } finally {
      await close();
    }
  },
};

function progressPrinter({ output }: CliContext): (eventsRead: number, position: bigint) => void {
  let printedAt = 0;
  return (eventsRead, position) => {
    if (eventsRead - printedAt < PROGRESS_EVERY_EVENTS) return;
    printedAt = eventsRead;
    output.stderr(`replayed ${eventsRead} events, at position ${position}\n`);
  };
}
