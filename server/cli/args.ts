// Command-line arguments: words (the command) and `--name value` options.
import { CliError } from './errors.ts';

export interface Parsed {
  words: string[];
  options: Map<string, string>;
}

export function parseArgs(argv: string[]): Parsed {
  const words: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      words.unshift('help');
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new CliError(`The option --${name} needs a value.`);
      options.set(name, value);
    } else {
      words.push(arg);
    }
  }
  return { words, options };
}

/** The value of a required option, or a clear error naming it. */
export function required(options: Map<string, string>, name: string, example: string): string {
  const value = options.get(name)?.trim();
  if (!value) throw new CliError(`Missing --${name}: for example --${name} ${example}.`);
  return value;
}

/** Refuses options the command does not know (a typo must not be silently ignored). */
export function onlyOptions(options: Map<string, string>, allowed: string[]): void {
  for (const name of options.keys()) {
    if (!allowed.includes(name)) {
      throw new CliError(
        `Unknown option --${name}${allowed.length ? ` (this command takes ${allowed.map((a) => `--${a}`).join(', ')})` : ''}.`,
      );
    }
  }
}
