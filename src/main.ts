import { ConfigError, loadConfig } from './infrastructure/config/config';
import { createLogger } from './infrastructure/logging/createLogger';
import { startShopstream } from './shopstream';

/** Entry point of `npm start`: validates the configuration, starts everything, stops on SIGTERM or SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`shopstream: ${error.message}\n`);
    process.exit(2);
  }

  const logger = createLogger(config.logLevel);
  const running = await startShopstream(config, logger);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutdown requested');
      running.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`shopstream: failed to start: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
