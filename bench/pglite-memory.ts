// Benchmark: the memory of a process that opens the embedded database (PGlite), over time, with
// the Node flags of `npm start` and with `--liftoff-only` added (V8 then never optimises
// WebAssembly with TurboFan). Prints, for each: RSS before opening, once opened, the peak in the
// 3 seconds that follow, where it settles, PGlite's WebAssembly memory, and the time of a fixed
// workload (2,000 lookups by address and 200 inserts) so that the speed given up is seen too.
//   npm run bench:pglite-memory               (BENCH_SUBSCRIBERS=10000 by default)
// Why: a fresh process peaks ~400-600 MB above its settled size about a second after opening the
// database, while V8 optimises one very large WebAssembly function of PGlite (docs/performance.md,
// "Import and embedded memory, session 3").
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../server/config.ts';
import { openDatabase } from '../server/db/database.ts';
import { migrateToLatest } from '../server/db/migrate.ts';
import { startInstance } from '../server/instance.ts';
import { seedSubscribers } from '../tests/helpers/newsletter-fixtures.ts';

const N = Number(process.env.BENCH_SUBSCRIBERS ?? 10_000);
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;

interface Report {
  atStart: number;
  opened: number;
  peak: number;
  settled: number;
  maxRss: number;
  wasmMemory: number;
  workloadMs: number;
}

if (process.argv[2] === '--open') {
  const dataDir = process.argv[3]!;
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  const atStart = process.memoryUsage.rss();
  const database = await openDatabase({ databaseUrl: undefined, dataDir, owner: 'bench' });
  await migrateToLatest(database.db);
  const opened = process.memoryUsage.rss();
  // What V8 does in the background after the opening shows in the next seconds.
  await new Promise((r) => setTimeout(r, 3000));
  const settled = process.memoryUsage.rss();
  const pglite = database.pglite as unknown as { Module?: { HEAPU8?: Uint8Array } };
  const wasmMemory = pglite.Module?.HEAPU8?.buffer.byteLength ?? 0;
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) {
    await database.pglite!.query('select id, status from subscribers where email = $1', [`seed-${(i * 7) % N}@example.org`]);
  }
  await database.pglite!.query(
    `insert into subscribers (email, email_hash) select 'memory-bench-${process.pid}-' || i || '@example.org', md5(i::text || clock_timestamp()::text) from generate_series(1, 200) i`,
  );
  const workloadMs = performance.now() - t0;
  clearInterval(sampler);
  await database.close();
  const report: Report = { atStart, opened, peak, settled, maxRss: process.resourceUsage().maxRSS * 1024, wasmMemory, workloadMs };
  process.send?.(report);
  process.exit(0);
}

function startFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  return pkg.scripts.start!.split(/\s+/).filter((w) => w.startsWith('--'));
}

function measure(dataDir: string, flags: string[]): Promise<Report> {
  const p = fork(fileURLToPath(import.meta.url), ['--open', dataDir], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...flags],
  });
  return new Promise((resolve, reject) => {
    p.once('message', (m) => resolve(m as Report));
    p.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'amap-bench-memory-'));
try {
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: dataDir,
    SMTP_URL: 'smtp://127.0.0.1:2525',
    PUBLIC_URL: 'https://amap-bench.example.org',
    PROCESS_ROLE: 'web',
    LOG_LEVEL: 'silent',
  });
  const instance = await startInstance(config, { logger: pino({ level: 'silent' }) });
  await seedSubscribers(instance.ctx, N, { prefix: 'seed-' });
  await instance.stop();
  const base = startFlags();
  console.log(`Embedded database of ${N} subscribers, opened by a fresh process (open, migration check, 3 s idle, workload)`);
  const results: Array<[string, Report]> = [];
  for (const [label, flags] of [
    ['npm start flags', base],
    ['npm start flags + --liftoff-only', [...base, '--liftoff-only']],
  ] as const) {
    const r = await measure(dataDir, [...flags]);
    results.push([label, r]);
    console.log(
      `${label} (${flags.join(' ')}): RSS at start ${mb(r.atStart)}, opened ${mb(r.opened)}, peak in the next 3 s ${mb(r.peak)}, settled ${mb(r.settled)}, ` +
        `kernel high-water mark ${mb(r.maxRss)}; WebAssembly memory ${mb(r.wasmMemory)}; workload ${r.workloadMs.toFixed(0)} ms`,
    );
  }
  const [a, b] = [results[0]![1], results[1]![1]];
  console.log(
    `--liftoff-only: high-water mark ${mb(b.maxRss)} instead of ${mb(a.maxRss)} (${((b.maxRss / a.maxRss) * 100).toFixed(0)}%), workload ${((b.workloadMs / a.workloadMs) * 100).toFixed(0)}% of the time with optimisation`,
  );
} finally {
  fs.rmSync(dataDir, { recursive: true, force: true });
}
