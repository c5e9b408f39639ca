// Start: read the configuration, start the instance, stop gracefully on SIGTERM/SIGINT.
// A problem at start is one sentence on stderr and exit code 1; nothing is deleted.
import { ConfigError, loadConfig } from './config.ts';
import { StartupError } from './core/errors.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  // The rest of the program is loaded only once the configuration is valid, so that a mistake in it
  // is reported at once rather than after every module has loaded.
  const { startInstance } = await import('./instance.ts');
  const instance = await startInstance(config);
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) process.exit(1); // a second Ctrl-C: leave now
    instance.ctx.log.info({ signal }, 'stopping');
    instance.stop().then(
      () => process.exit(0),
      (error) => {
        instance.ctx.log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StartupError) {
    process.stderr.write(`Cannot start: ${error.message}\n`);
  } else {
    process.stderr.write(`Cannot start: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  process.exit(1);
});
