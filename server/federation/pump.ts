// Draining a pg-boss queue quickly. The regular workers of JobQueue take one job per poll (every
// half second), which is right for rare jobs but far too slow for a fan-out of a thousand
// deliveries or a burst of incoming activities. The first job a regular worker receives kicks a
// pump: it fetches jobs in batches, runs up to `concurrency` at once, completes each one only after
// its handler succeeded (a failure goes through pg-boss's retry policy), and stops when the queue
// is empty. Jobs are durable the whole time: a crash leaves them active until pg-boss expires and
// retries them.
import type { Job } from 'pg-boss';
import type { Logger } from 'pino';
import type { JobQueue } from '../jobs/queue.ts';

/** Thrown by a handler that was not started because the process is stopping: the job goes back. */
export class Released extends Error {
  constructor() {
    super('stopping');
    this.name = 'Released';
  }
}

export class QueuePump<T extends object> {
  readonly #queue: JobQueue;
  readonly #name: string;
  readonly #handler: (data: T) => Promise<void>;
  readonly #concurrency: number;
  readonly #log: Logger;
  readonly #inFlight = new Set<Promise<void>>();
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(queue: JobQueue, name: string, handler: (data: T) => Promise<void>, concurrency: number, log: Logger) {
    this.#queue = queue;
    this.#name = name;
    this.#handler = handler;
    this.#concurrency = concurrency;
    this.#log = log;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Start draining (or drain once more when already running). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        this.kick();
      }
    });
  }

  async #drain(): Promise<void> {
    const { boss } = this.#queue;
    while (!this.#stopped) {
      const room = this.#concurrency - this.#inFlight.size;
      // Fetch in batches: one query per finished job would make the database round trip, not
      // the network, the limit (a quarter of the room free, or nothing running).
      if (room <= 0 || (this.#inFlight.size > 0 && room < this.#concurrency / 4)) {
        await Promise.race(this.#inFlight);
        continue;
      }
      let jobs: Job<T>[];
      try {
        jobs = await boss.fetch<T>(this.#name, { batchSize: room });
      } catch (error) {
        if (!this.#stopped) this.#log.warn({ err: error, queue: this.#name }, 'queue pump could not fetch jobs');
        break;
      }
      if (jobs.length === 0) {
        if (this.#inFlight.size === 0) break;
        await Promise.race(this.#inFlight);
        continue;
      }
      for (const job of jobs) {
        const run = this.#run(job);
        const tracked: Promise<void> = run.finally(() => this.#inFlight.delete(tracked));
        this.#inFlight.add(tracked);
      }
    }
    await Promise.allSettled([...this.#inFlight]);
  }

  async #run(job: Job<T>): Promise<void> {
    const { boss } = this.#queue;
    try {
      await this.#handler(job.data);
    } catch (error) {
      try {
        if (error instanceof Released) {
          // Not attempted: hand it back as it was (no retry counted, no delay).
          await boss.cancel(this.#name, job.id);
          await boss.resume(this.#name, job.id);
        } else {
          await boss.fail(this.#name, job.id, { message: (error as Error).message });
        }
      } catch (settleError) {
        this.#log.warn({ err: settleError, queue: this.#name }, 'queue pump could not settle a job');
      }
      return;
    }
    await this.#complete(job.id);
  }

  // Completions are written in small batches (one statement for up to 50 jobs, or after 10 ms):
  // on the embedded database every statement waits for the previous one. A crash before the
  // batch is written only means those jobs run again (receivers drop duplicate activity ids).
  #pending: Array<{ id: string; done: () => void }> = [];
  #timer: NodeJS.Timeout | undefined;

  #complete(id: string): Promise<void> {
    return new Promise<void>((done) => {
      this.#pending.push({ id, done });
      if (this.#pending.length >= 50) void this.#flush();
      else this.#timer ??= setTimeout(() => void this.#flush(), 10);
    });
  }

  async #flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0);
    if (batch.length === 0) return;
    try {
      await this.#queue.boss.complete(
        this.#name,
        batch.map((b) => b.id),
      );
    } catch (error) {
      this.#log.warn({ err: error, queue: this.#name }, 'queue pump could not complete jobs');
    }
    for (const b of batch) b.done();
  }

  /** Stop fetching; wait for the jobs in hand. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }
}
