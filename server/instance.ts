// The lifecycle of one instance: open the database, migrate, build the app, start the job queue,
// listen; and the reverse on stop. main.ts runs it for the command line; tests run several.
import type { Logger } from 'pino';
import { type App, buildApp } from './app.ts';
import type { Config } from './config.ts';
import { StartupError } from './core/errors.ts';
import { createLogger } from './core/logger.ts';
import { type DatabaseHandle, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';

export interface RunningInstance extends App {
  /** The address it listens on (http://127.0.0.1:port), or undefined for a worker-only process. */
  url: string | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Use this database instead of opening one from the configuration (tests). */
  database?: DatabaseHandle;
}

export async function startInstance(config: Config, options: StartOptions = {}): Promise<RunningInstance> {
  const log = options.logger ?? createLogger(config);
  const database =
    options.database ??
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      owner: `instance (${config.role})`,
      pgliteSharedBuffersMb: config.pgliteSharedBuffersMb,
    }));
  let built: App | undefined;
  try {
    const { applied } = await migrateToLatest(database.db);
    if (applied.length > 0) log.info({ migrations: applied }, 'database migrated');
    built = await buildApp(config, database, { logger: log });
    await built.ctx.queue.start({ work: config.role !== 'web' });
    let url: string | undefined;
    if (config.role !== 'worker') url = await listen(built, config);
    const { app, ctx } = built;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        // Stop taking requests and let those in flight finish; then let running jobs finish
        // (the rest go back to the queue); then close the database.
        await app.close();
        await ctx.queue.stop();
        await database.close();
      })();
      return stopping;
    };
    log.info({ url, database: database.kind, role: config.role, publicUrl: config.publicUrl }, 'instance started');
    return { app, ctx, url, stop };
  } catch (error) {
    await built?.app.close().catch(() => {});
    await built?.ctx.queue.stop(1000).catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
}

async function listen({ app }: App, config: Config): Promise<string> {
  try {
    return await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new StartupError(
        `PORT ${config.port} is already in use on ${config.host}: stop the program using it, or set PORT to another number.`,
      );
    }
    if (code === 'EACCES') {
      throw new StartupError(
        `PORT ${config.port} needs privileges this user does not have: choose a PORT above 1024 and put a reverse proxy in front.`,
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new StartupError(`HOST ${config.host} is not an address of this machine: use 127.0.0.1, 0.0.0.0 or one of its addresses.`);
    }
    throw error;
  }
}
