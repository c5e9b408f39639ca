// Real instances for integration and end-to-end tests: each listens on its own port on 127.0.0.1,
// with its own database (PGlite under a temporary DATA_DIR, or a fresh PostgreSQL database), and
// they talk to each other over real HTTP.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { type Config, loadConfig } from '../../server/config.ts';
import { type RunningInstance, startInstance } from '../../server/instance.ts';
import { createPostgresDatabase, usingPostgres } from './database.ts';
import { seedDataDir } from './pglite-template.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'amap-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestInstance extends RunningInstance {
  config: Config;
  url: string;
  /** Stop the instance and delete its data (database and files). */
  destroy(): Promise<void>;
}

/** Environment for a test instance; `env` overrides any variable. */
export async function testEnv(env: Record<string, string> = {}): Promise<Record<string, string>> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: tempDir(),
    INSTANCE_NAME: 'Réseau test',
    INSTANCE_HANDLE: 'reseau',
    FEDERATION_ALLOW_PRIVATE: 'true',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  };
}

export async function startTestInstance(env: Record<string, string> = {}): Promise<TestInstance> {
  const vars = await testEnv(env);
  let drop: (() => Promise<void>) | undefined;
  if (!usingPostgres() && !vars.DATABASE_URL && !fs.existsSync(path.join(vars.DATA_DIR!, 'pglite'))) {
    await seedDataDir(vars.DATA_DIR!);
  }
  if (usingPostgres() && !vars.DATABASE_URL) {
    const created = await createPostgresDatabase();
    vars.DATABASE_URL = created.url;
    drop = created.drop;
  }
  const config = loadConfig(vars);
  const logger = pino({ level: config.logLevel });
  const instance = await startInstance(config, { logger });
  return {
    ...instance,
    config,
    url: instance.url ?? config.publicUrl,
    destroy: async () => {
      await instance.stop();
      await drop?.();
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
