// The one durable job queue: pg-boss on the instance's own database (PGlite or PostgreSQL).
// Capabilities declare their queues here with a handler; a job is sent inside the transaction that
// records why it exists (`trx`), so it is committed with the change or not at all.
// Jobs that exhaust their retries land in a dead-letter queue named `<queue>.dead`, listed by
// `listDead()` and the CLI.

import type { Kysely, Transaction } from 'kysely';
import { fromKysely, fromPglite, type Job, PgBoss, type SendOptions } from 'pg-boss';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../db/database.ts';
import type { Database } from '../db/schema.ts';

export interface QueueDefinition<T extends object> {
  name: string;
  handler: (data: T, job: Job<T>) => Promise<void>;
  /** Attempts after the first one before the job is dead-lettered. */
  retryLimit?: number;
  /** First retry delay in seconds; doubles each time (with jitter) up to retryDelayMax. */
  retryDelay?: number;
  retryDelayMax?: number;
  /** How long one attempt may run before it counts as failed. */
  expireInSeconds?: number;
  /** How many jobs of this queue one worker process runs at once. */
  concurrency?: number;
}

export interface SendJobOptions {
  /** Enqueue inside this transaction: the job exists only if the transaction commits. */
  trx?: Transaction<Database> | Kysely<Database>;
  startAfter?: Date | number;
  /** At most one queued job with this key (used to collapse duplicates). */
  singletonKey?: string;
  /** A stable id: sending the same id twice creates one job. */
  id?: string;
}

export interface DeadJob {
  queue: string;
  id: string;
  data: unknown;
  createdOn: Date;
}

export const deadLetterName = (queue: string): string => `${queue}.dead`;

export class JobQueue {
  readonly boss: PgBoss;
  readonly #definitions = new Map<string, QueueDefinition<any>>();
  readonly #log: Logger;
  #started = false;

  constructor(handle: DatabaseHandle, log: Logger) {
    this.#log = log;
    this.boss = handle.pglite
      ? new PgBoss({ db: fromPglite(handle.pglite), backend: 'pglite', schema: 'pgboss' })
      : new PgBoss({ connectionString: handle.connectionString, max: 5, schema: 'pgboss' });
    // pg-boss reports maintenance errors as events; without a listener they would crash the process.
    this.boss.on('error', (error) => this.#log.error({ err: error }, 'job queue error'));
  }

  define<T extends object>(definition: QueueDefinition<T>): void {
    if (this.#started) throw new Error(`Queue ${definition.name} defined after the queue started`);
    if (this.#definitions.has(definition.name)) throw new Error(`Queue ${definition.name} defined twice`);
    this.#definitions.set(definition.name, definition);
  }

  get queueNames(): string[] {
    return [...this.#definitions.keys()];
  }

  /** Start pg-boss and create the queues; with `work`, also run their handlers in this process. */
  async start({ work }: { work: boolean }): Promise<void> {
    await this.boss.start();
    for (const def of this.#definitions.values()) {
      await this.boss.createQueue(deadLetterName(def.name), { retentionSeconds: 30 * 24 * 3600 });
      await this.boss.createQueue(def.name, {
        deadLetter: deadLetterName(def.name),
        retryLimit: def.retryLimit ?? 5,
        retryDelay: def.retryDelay ?? 10,
        retryBackoff: true,
        retryDelayMax: def.retryDelayMax ?? 3600,
        expireInSeconds: def.expireInSeconds ?? 300,
      });
    }
    this.#started = true;
    if (!work) return;
    for (const def of this.#definitions.values()) {
      await this.boss.work<object>(
        def.name,
        { localConcurrency: def.concurrency ?? 1, batchSize: 1, pollingIntervalSeconds: 0.5 },
        async (jobs) => {
          for (const job of jobs) await def.handler(job.data, job);
        },
      );
    }
  }

  async send<T extends object>(name: string, data: T, options: SendJobOptions = {}): Promise<string | null> {
    if (!this.#definitions.has(name)) throw new Error(`Unknown queue ${name}`);
    const sendOptions: SendOptions = {};
    if (options.trx) sendOptions.db = fromKysely(options.trx);
    if (options.startAfter !== undefined) sendOptions.startAfter = options.startAfter;
    if (options.singletonKey) sendOptions.singletonKey = options.singletonKey;
    if (options.id) sendOptions.id = options.id;
    return this.boss.send(name, data, sendOptions);
  }

  /** Jobs that failed every attempt, newest queues first; `queue` narrows to one queue. */
  async listDead(queue?: string, limit = 100): Promise<DeadJob[]> {
    const names = queue ? [queue] : this.queueNames;
    const dead: DeadJob[] = [];
    for (const name of names) {
      const jobs = await this.boss.findJobs(deadLetterName(name), { limit });
      for (const job of jobs) dead.push({ queue: name, id: job.id, data: job.data, createdOn: job.createdOn });
    }
    return dead;
  }

  /** Finish the jobs in hand (up to `timeoutMs`), hand the rest back to the queue, and stop. */
  async stop(timeoutMs = 20_000): Promise<void> {
    await this.boss.stop({ graceful: true, timeout: timeoutMs, close: true });
  }
}
