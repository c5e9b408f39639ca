// The real program as a child process (`node server/main.ts` on the project's pinned Node), for
// the tests of what a volunteer sees: exit codes, the sentence on stderr, start, stop, restart.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const NODE = path.join(ROOT, 'node_modules/.bin/node');

export interface ProgramRun {
  child: ChildProcess;
  /** Everything written so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Settles when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then wait for the exit (SIGKILL after `timeoutMs`, and the promise rejects). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/**
 * Start `node server/main.ts` with exactly `env` (plus PATH and HOME): nothing leaks in from the
 * test's own environment, DATABASE_URL included.
 */
export function runProgram(env: Record<string, string>, args: string[] = ['server/main.ts']): ProgramRun {
  const child = spawn(NODE, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    async stop(timeoutMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`the program did not stop within ${timeoutMs} ms of SIGTERM`));
        }, timeoutMs);
      });
      try {
        return (await Promise.race([exited, timeout])).code;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Run the program until it exits on its own (a refused start); kill it after `timeoutMs`. */
export async function runToExit(env: Record<string, string>, timeoutMs = 100_000): Promise<{ code: number | null; stderr: string }> {
  const run = runProgram(env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  try {
    const { code } = await run.exited;
    return { code, stderr: run.stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** Poll `url` until it answers 200 (returns the JSON body) or `timeoutMs` passes. */
export async function waitForOk(url: string, run: ProgramRun, timeoutMs = 20_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (run.child.exitCode !== null) throw new Error(`the program exited with code ${run.child.exitCode}: ${run.stderr}`);
    try {
      const response = await fetch(url);
      if (response.status === 200) return await response.json();
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (${last}); stderr: ${run.stderr}`);
}

/** Wait until the program's output contains `pattern` (a log line), or fail after `timeoutMs`. */
export async function waitForOutput(run: ProgramRun, pattern: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(run.stdout)) {
    if (run.child.exitCode !== null) throw new Error(`the program exited with code ${run.child.exitCode}: ${run.stderr}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} in the output within ${timeoutMs} ms: ${run.stdout}${run.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
