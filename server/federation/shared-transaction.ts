// Storing incoming activities together. A burst of activities (a network publishing, a relay
// catching up) is handed to the queue's workers many at a time; storing each one in a transaction
// of its own costs a BEGIN and a COMMIT each, and every one of them waits for the previous one's
// commit when they touch the same rows (the newsletter alert job all of them record). Work that
// waits while a transaction runs goes into the next one, together. If any piece fails, the
// shared transaction is rolled back and each piece runs again in a transaction of its own, so
// that a failure only fails its own activity and nothing of it is kept.
// Pieces must only use the database through `trx` (no network I/O: fetch before).
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import { gatherRealtime, sendGatheredRealtime } from '../realtime/realtime.publish.ts';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;

interface Piece {
  key: string;
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Most pieces in one transaction (a long transaction holds its locks longer). */
const MAX_PIECES = 64;

interface Queue {
  pieces: Piece[];
  running: boolean;
}

const queues = new WeakMap<Kysely<Database>, Queue>();

/**
 * Runs `work` in a transaction shared with the other work waiting; `key` names what it changes
 * (work with the same key runs in the order it came). One shared transaction runs at a time per
 * database: the pieces all record the same rows (the newsletter alert), so two transactions at
 * once would only wait for each other's commit while holding two connections; what arrives
 * meanwhile goes into the next one.
 */
export function inSharedTransaction<T>(db: Kysely<Database>, key: string, work: Work<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let queue = queues.get(db);
    if (!queue) {
      queue = { pieces: [], running: false };
      queues.set(db, queue);
    }
    queue.pieces.push({ key, work, resolve: resolve as (value: unknown) => void, reject });
    if (!queue.running) {
      queue.running = true;
      setImmediate(() => void drain(db, queue));
    }
  });
}

async function drain(db: Kysely<Database>, queue: Queue): Promise<void> {
  try {
    while (queue.pieces.length > 0) await runTogether(db, queue.pieces.splice(0, MAX_PIECES));
  } finally {
    queue.running = false;
  }
}

async function runAlone(db: Kysely<Database>, piece: Piece): Promise<void> {
  try {
    piece.resolve(await db.transaction().execute(piece.work));
  } catch (error) {
    piece.reject(error);
  }
}

async function runTogether(db: Kysely<Database>, batch: Piece[]): Promise<void> {
  if (batch.length === 1) return runAlone(db, batch[0] as Piece);
  let results: unknown[];
  try {
    results = await db.transaction().execute(async (trx) => {
      gatherRealtime(trx); // one NOTIFY statement for all the pieces, sent before the commit
      // Pieces with different keys run side by side: their statements queue on the connection,
      // which then never waits for the event loop between them. Pieces with the same key (the
      // same announcement twice) run one after the other, in the order they came.
      const last = new Map<string, Promise<unknown>>();
      const runs = batch.map((piece) => {
        const run = (last.get(piece.key) ?? Promise.resolve()).then(() => piece.work(trx));
        last.set(
          piece.key,
          run.catch(() => {}),
        );
        return run;
      });
      const settled = await Promise.allSettled(runs);
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      await sendGatheredRealtime(trx);
      return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value);
    });
  } catch {
    for (const piece of batch) await runAlone(db, piece);
    return;
  }
  batch.forEach((piece, i) => {
    piece.resolve(results[i]);
  });
}
