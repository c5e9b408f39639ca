// Start-up benchmark (npm run bench:startup): how long a volunteer waits after `npm start` until
// the instance answers /healthz, on the embedded database (or PostgreSQL with DATABASE_URL):
// the first start (which creates the database and applies every migration) and a restart with
// the data kept. Baseline in the same run: a bare Node HTTP server started the same way (the
// floor of this machine for "start a program and answer"), printed with the ratios. The README
// promises 20 seconds for the first start; that promise is checked here, not by a timed test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPostgresDatabase } from '../tests/helpers/database.ts';
import { freePort, tempDir } from '../tests/helpers/instance.ts';
import { runProgram, waitForOk } from '../tests/helpers/process.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function timeToHealthy(env: Record<string, string>, args?: string[]): Promise<number> {
  const started = performance.now();
  const run = runProgram(env, args);
  try {
    await waitForOk(`${env.PUBLIC_URL}/healthz`, run, 120_000);
    return performance.now() - started;
  } finally {
    await run.stop(30_000).catch(() => run.child.kill('SIGKILL'));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const bareDir = tempDir('amap-bench-bare-');
const bareScript = path.join(bareDir, 'bare.mjs');
fs.writeFileSync(
  bareScript,
  "import http from 'node:http';\nconst server = http.createServer((_q, r) => r.writeHead(200, { 'content-type': 'application/json' }).end('{}'));\nserver.listen(Number(process.env.PORT), '127.0.0.1');\nprocess.on('SIGTERM', () => server.close(() => process.exit(0)));\n",
);

console.log(`Start-up benchmark — database: ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}`);
console.log(
  `load average at start: ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
const first: number[] = [];
const again: number[] = [];
const bare: number[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const port = await freePort();
  const dataDir = tempDir('amap-bench-startup-');
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  };
  let drop: (() => Promise<void>) | undefined;
  if (process.env.DATABASE_URL) {
    const created = await createPostgresDatabase();
    env.DATABASE_URL = created.url;
    drop = created.drop;
  }
  try {
    first.push(await timeToHealthy(env));
    again.push(await timeToHealthy(env));
    bare.push(await timeToHealthy({ PORT: String(port), PUBLIC_URL: env.PUBLIC_URL as string }, [bareScript]));
  } finally {
    await drop?.();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(
    `  round ${round}: first start ${s(first.at(-1) as number)}, restart ${s(again.at(-1) as number)}, bare Node server ${s(bare.at(-1) as number)}`,
  );
}
fs.rmSync(bareDir, { recursive: true, force: true });
const b = median(bare);
console.log(
  `\nmedian of ${ROUNDS}: first start ${s(median(first))} (${(median(first) / b).toFixed(1)}× the bare server), restart ${s(median(again))} (${(median(again) / b).toFixed(1)}×), bare Node server ${s(b)}`,
);
console.log(`README's promise, first start within 20 s: ${median(first) < 20_000 ? 'kept' : 'NOT kept'} (worst ${s(Math.max(...first))})`);
