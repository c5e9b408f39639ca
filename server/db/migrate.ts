// Applies the migrations in migrations/ in order. Kysely's migrator takes a PostgreSQL advisory
// lock and runs the pending migrations in one transaction, so two processes starting at once
// apply each migration once, and a failing migration leaves the schema as it was.
// When the database already has every migration (every start but the first after an upgrade),
// the migrator is not even built: it would read the definition of every table (Kysely's
// introspection) to find its own, which took about a second and 300 MB of memory at each start of
// the embedded database (docs/performance.md, Newsletters). Two small queries say the same.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileMigrationProvider, type Kysely, type MigrationResultSet, Migrator, sql } from 'kysely';
import { StartupError } from '../core/errors.ts';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

function migrator(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_DIR }),
  });
}

/** The migrations this program has, named as Kysely's FileMigrationProvider names them (the file
 * name without its extension; declaration files are not migrations). */
async function knownMigrations(): Promise<string[]> {
  const files = await fs.readdir(MIGRATIONS_DIR);
  return files
    .filter((f) => /\.(ts|js|mts|mjs)$/.test(f) && !/\.d\.m?ts$/.test(f))
    .map((f) => f.slice(0, f.lastIndexOf('.')))
    .sort();
}

/** The migrations recorded in the database, or null when it has never been migrated. */
async function appliedMigrations(db: Kysely<any>): Promise<string[] | null> {
  const exists = await sql<{ found: string | null }>`select to_regclass('public.kysely_migration') as found`.execute(db);
  if (!exists.rows[0]?.found) return null;
  const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return applied.rows.map((r) => r.name);
}

export interface MigrationReport {
  applied: string[];
}

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationReport> {
  const known = await knownMigrations();
  const applied = await appliedMigrations(db);
  if (applied) {
    const unknown = applied.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      throw new StartupError(
        `This database has a newer schema than this program (unknown migration ${unknown[0]}): install the newer version of the program; nothing was changed.`,
      );
    }
    const done = new Set(applied);
    if (known.every((name) => done.has(name))) return { applied: [] };
  }
  const result: MigrationResultSet = await migrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new StartupError(
      `Migration ${failed?.migrationName ?? '(unknown)'} failed and was rolled back: ${(result.error as Error).message ?? String(result.error)}`,
    );
  }
  return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** True when every migration this program knows is applied (the health check asks at each call:
 * two small queries, not the migrator's introspection of every table). */
export async function isMigrated(db: Kysely<any>): Promise<boolean> {
  const applied = new Set((await appliedMigrations(db)) ?? []);
  return (await knownMigrations()).every((name) => applied.has(name));
}
