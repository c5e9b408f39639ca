// Imports started from the admin page run in the background, so that the page can show their
// progress (a 50,000-row file from Mailpro takes a few seconds). Their state is kept in this
// process's memory for an hour: the status page is served by the process that runs the import
// (with several web processes behind a proxy, a reload may land on another one, which says so).
// Nothing personal is kept here: counts and the line numbers of refused rows with their reason.
import crypto from 'node:crypto';
import type { ImportReport } from './subscribers.import.ts';

export interface ImportProgress {
  id: string;
  startedAt: Date;
  done: number;
  total: number;
  report?: ImportReport;
  /** The refusal shown to the editor (an unreadable file, a missing column…). */
  error?: string;
}

const KEEP_MS = 3600_000;
const MAX_KEPT = 50;
const imports = new Map<string, ImportProgress>();

function forgetOld(now: number): void {
  for (const [id, entry] of imports) {
    if (now - entry.startedAt.getTime() > KEEP_MS || imports.size > MAX_KEPT) imports.delete(id);
  }
}

/** Starts `run` in the background; its progress is read with `importProgress(id)`. */
export function startImport(run: (onProgress: (p: { done: number; total: number }) => void) => Promise<ImportReport>): ImportProgress {
  forgetOld(Date.now());
  const entry: ImportProgress = { id: crypto.randomUUID(), startedAt: new Date(), done: 0, total: 0 };
  imports.set(entry.id, entry);
  run((p) => {
    entry.done = p.done;
    entry.total = p.total;
  }).then(
    (report) => {
      entry.report = report;
      entry.done = entry.total;
    },
    (error: unknown) => {
      entry.error = error instanceof Error ? error.message : String(error);
    },
  );
  return entry;
}

export function importProgress(id: string): ImportProgress | undefined {
  return imports.get(id);
}
