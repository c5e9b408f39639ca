// The progress rows of admin-page imports (import-progress.ts).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

type Db = Kysely<Database>;

export interface ImportRow {
  id: string;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  done: number;
  total: number;
  report: unknown;
  error: string | null;
}

export async function insertImport(db: Db, id: string): Promise<void> {
  await db.insertInto('subscriber_imports').values({ id }).execute();
}

export async function setImportProgress(db: Db, id: string, done: number, total: number): Promise<void> {
  await db.updateTable('subscriber_imports').set({ done, total, updated_at: new Date() }).where('id', '=', id).execute();
}

/** Finished: with its report, or with the refusal shown to the editor. */
export async function finishImport(
  db: Db,
  id: string,
  end: { report: unknown; done: number } | { error: string; done: number },
): Promise<void> {
  const now = new Date();
  await db
    .updateTable('subscriber_imports')
    .set(
      'report' in end
        ? { report: JSON.stringify(end.report), done: end.done, finished_at: now, updated_at: now }
        : { error: end.error.slice(0, 1000), done: end.done, finished_at: now, updated_at: now },
    )
    .where('id', '=', id)
    .execute();
}

export async function findImport(db: Db, id: string): Promise<ImportRow | undefined> {
  return db
    .selectFrom('subscriber_imports')
    .select(['id', 'started_at as startedAt', 'updated_at as updatedAt', 'finished_at as finishedAt', 'done', 'total', 'report', 'error'])
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function deleteImportsBefore(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('subscriber_imports').where('started_at', '<', before).execute();
}
