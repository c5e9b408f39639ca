// The commands of `npm run cli`. Each opens the database the way the instance does: the embedded
// database is refused while an instance holds it (its lock file); PostgreSQL is shared.
import { fromPglite, PgBoss } from 'pg-boss';
import { findUserByEmail } from '../accounts/accounts.repository.ts';
import { createApiToken, createUser, ROLES } from '../accounts/accounts.service.ts';
import type { Role } from '../accounts/accounts.tables.ts';
import { normaliseEmail } from '../accounts/passwords.ts';
import { forgetSetupCodes } from '../accounts/setup.ts';
import type { Config } from '../config.ts';
import { type DatabaseHandle, openDatabase } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { onlyOptions, required } from './args.ts';
import { CliError } from './errors.ts';
import { readLine } from './stdin.ts';

export type Output = (line: string) => void;

/** Opens the database (migrated first), runs `run`, closes it; `report` receives what was migrated. */
async function withDatabase<T>(
  config: Config,
  run: (handle: DatabaseHandle) => Promise<T>,
  report?: (applied: string[]) => void,
): Promise<T> {
  const handle = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    owner: 'command line (npm run cli)',
    poolSize: 2,
  });
  try {
    // Accounts can be created before the instance was ever started: bring the schema up first.
    const { applied } = await migrateToLatest(handle.db);
    report?.(applied);
    return await run(handle);
  } finally {
    await handle.close();
  }
}

export async function migrateCommand(config: Config, options: Map<string, string>, out: Output): Promise<void> {
  onlyOptions(options, []);
  await withDatabase(
    config,
    async () => {},
    (applied) =>
      out(applied.length === 0 ? 'The database is up to date.' : `Applied ${applied.length} migration(s): ${applied.join(', ')}.`),
  );
}

export async function userAddCommand(config: Config, options: Map<string, string>, out: Output): Promise<void> {
  onlyOptions(options, ['email', 'role', 'name']);
  const email = required(options, 'email', 'someone@example.org');
  const role = required(options, 'role', 'editor');
  if (!ROLES.includes(role as Role)) throw new CliError(`Unknown role "${role}": use --role admin or --role editor.`);
  const password = await readLine('Password (at least 10 characters): ');
  if (password.length < 10) throw new CliError('The password must have at least 10 characters; nothing was created.');
  await withDatabase(config, async ({ db }) => {
    const user = await createUser(db, { email, password, role: role as Role, displayName: options.get('name') });
    if (user.role === 'admin') await forgetSetupCodes(db);
    out(`Account created: ${user.email} (${user.role}).`);
  });
}

export async function tokenAddCommand(config: Config, options: Map<string, string>, out: Output): Promise<void> {
  onlyOptions(options, ['email', 'name']);
  const email = normaliseEmail(required(options, 'email', 'someone@example.org'));
  await withDatabase(config, async ({ db }) => {
    const user = await findUserByEmail(db, email);
    if (!user) throw new CliError(`No account has the email address ${email}: create it first with user add.`);
    const { token } = await createApiToken(db, user.id, options.get('name') ?? 'command line');
    out(token);
  });
}

export async function jobsDeadCommand(config: Config, options: Map<string, string>, out: Output): Promise<void> {
  onlyOptions(options, ['queue']);
  const only = options.get('queue');
  await withDatabase(config, async (handle) => {
    // A pg-boss of our own that only reads: no supervision, no schedules, no workers.
    const common = { schema: 'pgboss', supervise: false, schedule: false } as const;
    const boss = handle.pglite
      ? new PgBoss({ ...common, db: fromPglite(handle.pglite), backend: 'pglite' })
      : new PgBoss({ ...common, connectionString: handle.connectionString, max: 2 });
    boss.on('error', () => {});
    await boss.start();
    try {
      const queues = (await boss.getQueues()).map((q) => q.name).filter((n) => n.endsWith('.dead'));
      const wanted = only ? queues.filter((n) => n === `${only}.dead`) : queues;
      if (only && wanted.length === 0) throw new CliError(`No queue named "${only}" has a dead-letter queue.`);
      let count = 0;
      for (const name of wanted.sort()) {
        for (const job of await boss.findJobs(name, { limit: 1000 })) {
          count++;
          const data = JSON.stringify(job.data);
          out(
            `${name.slice(0, -'.dead'.length)}\t${job.id}\t${job.createdOn.toISOString()}\t${data.length > 200 ? `${data.slice(0, 200)}…` : data}`,
          );
        }
      }
      if (count === 0) out('No dead-lettered jobs.');
    } finally {
      await boss.stop({ graceful: false, close: !handle.pglite });
    }
  });
}

export const HELP = `Usage: npm run cli -- <command> [options]

Commands:
  user add --email E --role admin|editor [--name N]
                      Create a staff account. The password (at least 10 characters)
                      is read from standard input, one line.
  token add --email E [--name N]
                      Create an API token for that account and print it (shown once).
  migrate             Bring the database schema up to date.
  jobs dead [--queue Q]
                      List jobs that failed every attempt (dead-lettered).
  help                This help.

Configuration comes from the same environment variables as the server (DATA_DIR, DATABASE_URL…).
With the embedded database, stop the running instance first; with PostgreSQL there is no need.`;
