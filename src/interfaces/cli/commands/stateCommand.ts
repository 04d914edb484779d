import { AuditService } from '../../../application/audit/AuditService';
import { parseAsOf, parseRevision, type StatePoint } from '../../../application/audit/statePoint';
import { EXIT_OK, parseCommandArgs, parseResourceId, rejectExtraPositionals, UsageError, type CliCommand } from '../cliCommand';

export const stateCommand: CliCommand = {
  name: 'state',
  arguments: 'order <id> (--as-of <time> | --revision <n>)',
  summary: "print an order's state at a past time or revision, folded from its events",
  details: [
    '--as-of <time>   ISO-8601 date and time with a zone, e.g. 2026-03-01T09:30:00Z: the state after every event that occurred at or before it',
    '--revision <n>   stream revision, 0 for the first event: the state after that event',
    'Prints {"revision": n, "order": {...}}, the order as GET /orders/{id} returns it.',
  ],

  async run(args, { output, eventStore }) {
    const { values, positionals } = parseCommandArgs(args, {
      'as-of': { type: 'string' },
      revision: { type: 'string' },
    });
    if (positionals[0] !== 'order') {
      throw new UsageError(`state supports only orders; expected "order" (got ${JSON.stringify(positionals[0] ?? '')})`);
    }
    const orderId = parseResourceId(positionals[1]);
    rejectExtraPositionals(positionals, 2);
    const point = parsePoint(values['as-of'], values.revision);

    const record = await new AuditService(await eventStore()).orderStateAt(orderId, point);

    output.stdout(`${JSON.stringify({ revision: record.revision, order: record.view })}\n`);
    return EXIT_OK;
  },
};

function parsePoint(asOf: string | undefined, revision: string | undefined): StatePoint {
  if (asOf !== undefined && revision !== undefined) throw new UsageError('--as-of and --revision cannot be combined; give one of them');
  if (asOf !== undefined) {
    const parsed = parseAsOf(asOf);
    if (!parsed.ok) throw new UsageError(`--as-of ${parsed.reason} (got ${JSON.stringify(asOf)})`);
    return parsed.value;
  }
  if (revision !== undefined) {
    const parsed = parseRevision(revision);
    if (!parsed.ok) throw new UsageError(`--revision ${parsed.reason}`);
    return parsed.value;
  }
  throw new UsageError('missing --as-of <time> or --revision <n>');
}
