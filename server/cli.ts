// The command line: `npm run cli -- <command>` (see HELP in cli/commands.ts). A mistake or a
// refusal is one sentence on stderr and exit code 1; output meant for scripts goes to stdout.

import { parseArgs } from './cli/args.ts';
import { HELP, jobsDeadCommand, migrateCommand, tokenAddCommand, userAddCommand } from './cli/commands.ts';
import { CliError } from './cli/errors.ts';
import { ConfigError, loadConfig } from './config.ts';
import { AppError, StartupError } from './core/errors.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const { words, options } = parseArgs(argv);
  const command = words.join(' ');
  if (command === '' || command === 'help' || words[0] === 'help') {
    out(HELP);
    return command === '' ? 1 : 0;
  }
  const run = { 'user add': userAddCommand, 'token add': tokenAddCommand, migrate: migrateCommand, 'jobs dead': jobsDeadCommand }[command];
  if (!run) throw new CliError(`Unknown command "${command}": run "npm run cli -- help" for the list.`);
  await run(loadConfig(), options, out);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof CliError || error instanceof ConfigError || error instanceof StartupError || error instanceof AppError) {
      process.stderr.write(`Error: ${error.message}\n`);
    } else {
      process.stderr.write(`Error: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    process.exit(1);
  },
);
