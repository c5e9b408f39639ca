// Opens the database: PostgreSQL through `pg` when DATABASE_URL is set, otherwise the embedded
// PGlite under DATA_DIR. Both speak the same SQL, so the rest of the program never asks which.
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { DEFAULT_PGLITE_SHARED_BUFFERS_MB, redact } from '../config.ts';
import { StartupError } from '../core/errors.ts';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.ts';
import { PgliteDialect } from './pglite-dialect.ts';
import type { Database } from './schema.ts';

export type DatabaseKind = 'pglite' | 'postgresql';

export interface DatabaseHandle {
  db: Kysely<Database>;
  kind: DatabaseKind;
  /** Present for the embedded database: pg-boss and LISTEN/NOTIFY use it directly. */
  pglite?: PGlite;
  /** Present for PostgreSQL: the connection string, for pg-boss and LISTEN. */
  connectionString?: string;
  close(): Promise<void>;
}

// int8 (counts, sums) as numbers rather than strings: our counts stay far below 2^53.
pg.types.setTypeParser(20, (value) => Number(value));

export interface OpenOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  /** An in-memory PGlite, for tests that need a throw-away database. */
  memory?: boolean;
  /** What holds the embedded database, written into its lock file. */
  owner?: string;
  poolSize?: number;
  /** Shared buffers of the embedded database, in MB (PGLITE_SHARED_BUFFERS). */
  pgliteSharedBuffersMb?: number;
}

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  return openPglite(options);
}

async function openPostgres(connectionString: string, max: number): Promise<DatabaseHandle> {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5000 });
  // An idle client that loses its server emits 'error'; without a listener the process would crash.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new StartupError(describePgError(error, connectionString));
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgresql',
    connectionString,
    close: async () => {
      await db.destroy();
    },
  };
}

function describePgError(error: unknown, connectionString: string): string {
  const where = redact(connectionString);
  const err = error as { code?: string; message?: string };
  switch (err.code) {
    case 'ECONNREFUSED':
      return `Cannot reach PostgreSQL at ${where} (connection refused): is the server running, and is DATABASE_URL right?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Cannot reach PostgreSQL at ${where}: the host name in DATABASE_URL is unknown.`;
    case '28P01':
    case '28000':
      return `PostgreSQL refused the user or password given in DATABASE_URL (${where}).`;
    case '3D000':
      return `The database named in DATABASE_URL does not exist (${where}): create it first (createdb).`;
    default:
      if (/timeout/i.test(err.message ?? ''))
        return `PostgreSQL at ${where} did not answer within 5 seconds: check DATABASE_URL and the network.`;
      return `Cannot open PostgreSQL at ${where}: ${err.message ?? String(error)}`;
  }
}

/** PGlite's options. Its shared buffers (128 MB by default) are WebAssembly memory that is never
 * given back once touched: a smaller cache keeps the process small, and the operating system's
 * file cache still holds the pages (docs/performance.md, Newsletters). PGlite's own start
 * parameters are kept; ours come after them. */
export function pgliteOptions(sharedBuffersMb = DEFAULT_PGLITE_SHARED_BUFFERS_MB) {
  return {
    parsers: { 20: (value: string) => Number(value) },
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffersMb}MB`],
  };
}

async function openPglite(options: OpenOptions): Promise<DatabaseHandle> {
  let lock: DataDirLock | undefined;
  let pglite: PGlite;
  const pgOptions = pgliteOptions(options.pgliteSharedBuffersMb);
  if (options.memory) {
    pglite = new PGlite(pgOptions);
  } else {
    const dir = path.join(options.dataDir, 'pglite');
    ensureWritableDir(options.dataDir);
    lock = acquireDataDirLock(options.dataDir, options.owner ?? 'instance');
    try {
      pglite = new PGlite(dir, pgOptions);
      await pglite.waitReady;
    } catch (error) {
      lock.release();
      throw new StartupError(`Cannot open the embedded database in ${dir}: ${(error as Error).message}`);
    }
  }
  await pglite.waitReady;
  const db = new Kysely<Database>({ dialect: new PgliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    pglite,
    close: async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
      lock?.release();
    },
  };
}

function ensureWritableDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new StartupError(
      `DATA_DIR ${dir} cannot be created or written to: give the user running the instance write access to it, or set DATA_DIR to another folder.`,
    );
  }
}
