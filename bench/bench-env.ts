// The environment of an instance started by a benchmark: a free port on 127.0.0.1, a throw-away
// data directory, silent logs, and, when DATABASE_URL is set, a fresh PostgreSQL database on that
// server (dropped by `drop`); otherwise the embedded database.
import { createPostgresDatabase } from '../tests/helpers/database.ts';
import { freePort, tempDir } from '../tests/helpers/instance.ts';

export interface BenchEnvironment {
  env: Record<string, string>;
  port: number;
  /** Drops the PostgreSQL database made for the run (nothing to do on the embedded database). */
  drop: () => Promise<void>;
}

export async function benchEnvironment(extra: Record<string, string> = {}): Promise<BenchEnvironment> {
  const port = await freePort();
  const env: Record<string, string> = {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: tempDir('amap-bench-'),
    LOG_LEVEL: 'silent',
    INSTANCE_HANDLE: 'reseau',
    ...extra,
  };
  let drop = async () => {};
  if (process.env.DATABASE_URL) {
    const created = await createPostgresDatabase();
    env.DATABASE_URL = created.url;
    drop = created.drop;
  }
  return { env, port, drop };
}
