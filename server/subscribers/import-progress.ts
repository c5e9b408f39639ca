// Imports started from the admin page run in the background, so that the page can show their
// progress (a 50,000-row file from Mailpro takes a few seconds). Their state is a database row
// (subscriber_imports), so any web process can serve the progress page. An import cut short by a
// restart stops updating its row, and after STALE_MS the page says it was interrupted. Rows are
// kept for a day.
// Nothing personal is kept: counts and the line numbers of refused rows with their reason.
import crypto from 'node:crypto';
import type { AppContext } from '../core/context.ts';
import { deleteImportsBefore, findImport, finishImport, insertImport, setImportProgress } from './imports.repository.ts';
import type { ImportReport } from './subscribers.import.ts';

export interface ImportProgress {
  id: string;
  startedAt: Date;
  done: number;
  total: number;
  report?: ImportReport;
  /** The refusal shown to the editor (an unreadable file, a missing column…). */
  error?: string;
  /** No longer running, and never finished: the process that ran it stopped. */
  interrupted: boolean;
}

const KEEP_MS = 24 * 3600_000;
/** How often a running import writes its progress (the page reloads every second). */
const WRITE_EVERY_MS = 500;
/** A running import writes at least every WRITE_EVERY_MS, plus one batch of rows: silent for
 * this long, it is not running any more. */
const STALE_MS = 120_000;

/** Starts `run` in the background and returns the id to read its progress with. */
export async function startImport(
  ctx: AppContext,
  run: (onProgress: (p: { done: number; total: number }) => void) => Promise<ImportReport>,
): Promise<string> {
  await deleteImportsBefore(ctx.db, new Date(Date.now() - KEEP_MS));
  const id = crypto.randomUUID();
  await insertImport(ctx.db, id);
  let writtenAt = 0;
  let writing: Promise<void> = Promise.resolve();
  let last = { done: 0, total: 0 };
  const write = () => {
    writtenAt = Date.now();
    const { done, total } = last;
    // One write at a time, in order; a failed progress write only delays the figures.
    writing = writing
      .then(() => setImportProgress(ctx.db, id, done, total))
      .catch((error: unknown) => ctx.log.warn({ code: (error as { code?: string }).code }, 'subscribers: import progress not saved'));
  };
  const finish = async (end: { report: ImportReport; done: number } | { error: string; done: number }) => {
    await writing;
    try {
      await finishImport(ctx.db, id, end);
    } catch (error) {
      ctx.log.error({ code: (error as { code?: string }).code }, 'subscribers: the end of an import could not be saved');
    }
  };
  run((p) => {
    last = p;
    if (Date.now() - writtenAt >= WRITE_EVERY_MS) write();
  }).then(
    (report) => finish({ report, done: last.total }),
    (error: unknown) => finish({ error: error instanceof Error ? error.message : String(error), done: last.done }),
  );
  return id;
}

export async function importProgress(ctx: AppContext, id: string): Promise<ImportProgress | undefined> {
  const row = await findImport(ctx.db, id);
  if (!row) return undefined;
  return {
    id: row.id,
    startedAt: row.startedAt,
    done: row.done,
    total: row.total,
    ...(row.report ? { report: row.report as ImportReport } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    interrupted: row.finishedAt === null && Date.now() - row.updatedAt.getTime() > STALE_MS,
  };
}
