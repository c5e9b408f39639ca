// Reads one line from standard input: a password piped in, or typed at a prompt without echo.
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { CliError } from './errors.ts';

export async function readLine(prompt: string): Promise<string> {
  if (process.stdin.isTTY) return readHidden(prompt);
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return line.replace(/\r$/, '');
  } finally {
    rl.close();
  }
  throw new CliError('No password was given on standard input: type it, or pipe it in (echo "…" | npm run cli -- user add …).');
}

/** At a terminal: the typed characters go to a sink instead of the screen. */
async function readHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = readline.createInterface({ input: process.stdin, output: sink, terminal: true });
  rl.on('SIGINT', () => {
    process.stderr.write('\n');
    process.exit(130);
  });
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}
