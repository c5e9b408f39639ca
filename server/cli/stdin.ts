// Reads one line from standard input (a password piped in, or typed at a prompt).
import readline from 'node:readline';
import { CliError } from './errors.ts';

export async function readLine(prompt: string): Promise<string> {
  const interactive = process.stdin.isTTY === true;
  if (interactive) process.stderr.write(prompt);
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of rl) return line.replace(/\r$/, '');
  } finally {
    rl.close();
  }
  throw new CliError('No password was given on standard input: type it, or pipe it in (echo "…" | npm run cli -- user add …).');
}
