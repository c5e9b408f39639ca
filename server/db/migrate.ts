// Applies the migrations in migrations/ in order. Kysely's migrator takes a PostgreSQL advisory
// lock and runs the pending migrations in one transaction, so two processes starting at once
// apply each migration once, and a failing migration leaves the schema as it was.
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

/** Names of migrations the database has that this program does not know: it was run by a newer version. */
async function unknownMigrations(db: Kysely<any>, known: string[]): Promise<string[]> {
  const exists = await sql<{ found: string | null }>`select to_regclass('public.kysely_migration') as found`.execute(db);
  if (!exists.rows[0]?.found) return [];
  const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return applied.rows.map((r) => r.name).filter((name) => !known.includes(name));
}

export interface MigrationReport {
  applied: string[];
}

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationReport> {
  const m = migrator(db);
  const known = (await m.getMigrations()).map((x) => x.name);
  const unknown = await unknownMigrations(db, known);
  if (unknown.length > 0) {
    throw new StartupError(
      `This database has a newer schema than this program (unknown migration ${unknown[0]}): install the newer version of the program; nothing was changed.`,
    );
  }
  const result: MigrationResultSet = await m.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new StartupError(
      `Migration ${failed?.migrationName ?? '(unknown)'} failed and was rolled back: ${(result.error as Error).message ?? String(result.error)}`,
    );
  }
  return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}

/** True when every migration this program knows is applied. */
export async function isMigrated(db: Kysely<any>): Promise<boolean> {
  const migrations = await migrator(db).getMigrations();
  return migrations.every((m) => m.executedAt !== undefined);
}
