import { toBrokenLinkRecord, toEventRecord, type EventRecord } from '../../../application/audit/auditRecords';
import { AuditService } from '../../../application/audit/AuditService';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, parseResource, parseResourceId, rejectExtraPositionals, UsageError, type CliCommand } from '../cliCommand';

const FORMATS = ['jsonl', 'table'] as const;

export const historyCommand: CliCommand = {
  name: 'history',
  arguments: '<order|user|product> <id> [--format jsonl|table] [--verify]',
  summary: "print every event of a resource's stream, read from the event store",
  details: [
    '--format jsonl   one JSON object per event, as GET /{resource}s/{id}/history returns them (default)',
    '--format table   one aligned line per event: revision, position, occurred_at, type, data',
    '--verify         also check the hash chain; prints the result to stderr and exits 1 if it is broken',
    "User events show password_hash as \"[redacted]\".",
  ],

  async run(args, { output, eventStore }) {
    const { values, positionals } = parseCommandArgs(args, {
      format: { type: 'string', default: 'jsonl' },
      verify: { type: 'boolean', default: false },
    });
    const resource = parseResource(positionals[0]);
    const id = parseResourceId(positionals[1]);
    rejectExtraPositionals(positionals, 2);
    const format = FORMATS.find((candidate) => candidate === values.format);
    if (format === undefined) throw new UsageError(`--format must be one of: ${FORMATS.join(', ')} (got ${JSON.stringify(values.format)})`);

    const history = await new AuditService(await eventStore()).history(resource, id, { verify: values.verify });

    const records = history.events.map(toEventRecord);
    output.stdout(format === 'jsonl' ? records.map((record) => `${JSON.stringify(record)}\n`).join('') : formatTable(records));
    if (history.verification === undefined) return EXIT_OK;
    if (history.verification.valid) {
      output.stderr(`${history.streamId}: hash chain valid (${records.length} events)\n`);
      return EXIT_OK;
    }
    output.stderr(`${history.streamId}: hash chain broken: ${JSON.stringify(toBrokenLinkRecord(history.verification.firstBrokenLink))}\n`);
    return EXIT_FAILURE;
  },
};

function formatTable(records: readonly EventRecord[]): string {
  const header = ['REVISION', 'POSITION', 'OCCURRED_AT', 'TYPE', 'DATA'];
  const rows = records.map((record) => [
    String(record.revision),
    record.position,
    occurredAtOf(record),
    record.type,
    JSON.stringify(record.data),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
  // The last column is not padded, so lines carry no trailing spaces.
  const formatRow = (row: readonly string[]): string =>
    row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ');
  return [header, ...rows].map((row) => `${formatRow(row)}\n`).join('');
}

function occurredAtOf(record: EventRecord): string {
  const { occurred_at: occurredAt } = record.metadata as { occurred_at?: unknown };
  return typeof occurredAt === 'string' ? occurredAt : '';
}
