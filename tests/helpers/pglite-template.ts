// A migrated embedded database, made once and copied for each test. Creating a PGlite cluster,
// applying every migration and installing the job queue's schema takes seconds; copying the
// resulting folder takes milliseconds. The template is keyed by the migrations' content and the
// versions of PGlite and pg-boss, so a changed migration builds a new one.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { openDatabase } from '../../server/db/database.ts';
import { MIGRATIONS_DIR, migrateToLatest } from '../../server/db/migrate.ts';
import { JobQueue } from '../../server/jobs/queue.ts';

function templateKey(): string {
  const hash = crypto.createHash('sha256');
  for (const name of fs.readdirSync(MIGRATIONS_DIR).sort()) {
    hash.update(name);
    hash.update(fs.readFileSync(path.join(MIGRATIONS_DIR, name)));
  }
  for (const pkg of ['@electric-sql/pglite', 'pg-boss']) {
    const manifest = path.resolve(MIGRATIONS_DIR, '..', 'node_modules', pkg, 'package.json');
    hash.update(JSON.parse(fs.readFileSync(manifest, 'utf8')).version);
  }
  return hash.digest('hex').slice(0, 16);
}

async function build(target: string): Promise<void> {
  // Built in a folder of its own, then renamed: a worker never sees a half-built template, and
  // two workers building at once both succeed (the second rename loses and is thrown away).
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'amap-pglite-build-'));
  const handle = await openDatabase({ databaseUrl: undefined, dataDir: work, owner: 'test template' });
  try {
    await migrateToLatest(handle.db);
    const queue = new JobQueue(handle, pino({ level: 'silent' }));
    await queue.start({ work: false });
    await queue.stop(1000);
  } finally {
    await handle.close();
  }
  try {
    fs.renameSync(path.join(work, 'pglite'), target);
  } catch (error) {
    if (!fs.existsSync(target)) throw error;
  }
  fs.rmSync(work, { recursive: true, force: true });
}

let ready: Promise<string> | undefined;

/** The path of the migrated template's PGlite folder (built on first use). */
export function pgliteTemplate(): Promise<string> {
  ready ??= (async () => {
    const target = path.join(os.tmpdir(), `amap-pglite-template-${templateKey()}`);
    if (!fs.existsSync(path.join(target, 'PG_VERSION'))) await build(target);
    return target;
  })();
  return ready;
}

/** Put a copy of the migrated template at DATA_DIR/pglite, where the instance will find it. */
export async function seedDataDir(dataDir: string): Promise<void> {
  const template = await pgliteTemplate();
  fs.mkdirSync(dataDir, { recursive: true });
  fs.cpSync(template, path.join(dataDir, 'pglite'), { recursive: true });
}
