import { toBrokenLinkRecord } from '../../../application/audit/auditRecords';
import { verifyLog } from '../../../application/audit/verifyLog';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, rejectExtraPositionals, UsageError, type CliCommand } from '../cliCommand';

const DEFAULT_PROGRESS_EVERY = 1000;

export const verifyCommand: CliCommand = {
  name: 'verify',
  arguments: '[--progress-every <n>]',
  summary: 'check the hash chain of every user, product and order stream in the log',
  details: [
    `--progress-every <n>   print progress to stderr each time n more streams have been seen (default ${DEFAULT_PROGRESS_EVERY})`,
    "Prints each broken stream's first bad link and a summary to stdout; exits 1 if any chain is broken.",
    'Helper streams (ids-, unique_*-, checkpoints-) are not chained and not checked.',
  ],

  async run(args, { output, eventStore }) {
    const { values, positionals } = parseCommandArgs(args, { 'progress-every': { type: 'string' } });
    rejectExtraPositionals(positionals, 0);
    const progressEvery = parseProgressEvery(values['progress-every']);

    const result = await verifyLog(await eventStore(), {
      progressEvery,
      onProgress: ({ streamsSeen, eventsRead, position }) =>
        output.stderr(`verify: ${streamsSeen} streams seen, ${eventsRead} events read, at position ${position}\n`),
    });

    for (const { streamId, link } of result.brokenStreams) {
      output.stdout(`BROKEN ${streamId} at revision ${link.revision}: ${JSON.stringify(toBrokenLinkRecord(link))}\n`);
    }
    const { streamsChecked, eventsChecked, brokenStreams } = result;
    const verdict = brokenStreams.length === 0 ? 'all hash chains valid' : `${brokenStreams.length} broken`;
    output.stdout(`verified ${streamsChecked} streams (${eventsChecked} events): ${verdict}\n`);
    return brokenStreams.length === 0 ? EXIT_OK : EXIT_FAILURE;
  },
};

function parseProgressEvery(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PROGRESS_EVERY;
  const value = /^[1-9][0-9]{0,8}$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isNaN(value)) throw new UsageError(`--progress-every must be a positive integer of at most 9 digits (got ${JSON.stringify(text)})`);
  return value;
}
