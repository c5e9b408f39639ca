// What every capability receives when it is registered: the configuration, the database, the job
// queue, the domain events and the logger. Nothing else is shared between capabilities.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { DomainEvents } from './events.ts';

export interface AppContext {
  config: Config;
  database: DatabaseHandle;
  db: Kysely<Database>;
  queue: JobQueue;
  events: DomainEvents;
  log: Logger;
}
