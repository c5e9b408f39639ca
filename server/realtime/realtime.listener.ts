// Each web process LISTENs on the realtime channel and hands what arrives to its hub. On
// PostgreSQL this takes one dedicated connection (outside the pool: a pooled connection would lose
// its LISTEN when handed back), reconnected with a growing delay if it drops. On PGlite the
// embedded database notifies in-process.
import pg from 'pg';
import type { Logger } from 'pino';
import type { DatabaseHandle } from '../db/database.ts';
import { REALTIME_CHANNEL } from './realtime.publish.ts';

export interface RealtimeListener {
  close(): Promise<void>;
}

export async function startRealtimeListener(
  database: DatabaseHandle,
  log: Logger,
  onPayload: (payload: string) => void,
): Promise<RealtimeListener> {
  if (database.pglite) {
    const pglite = database.pglite;
    const unlisten = await pglite.listen(REALTIME_CHANNEL, onPayload);
    return {
      close: async () => {
        if (!pglite.closed) await unlisten().catch(() => {});
      },
    };
  }
  if (!database.connectionString) throw new Error('The realtime listener needs a PostgreSQL connection string');
  const listener = new PgListener(database.connectionString, log, onPayload);
  await listener.connect();
  return listener;
}

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

class PgListener implements RealtimeListener {
  readonly #connectionString: string;
  readonly #log: Logger;
  readonly #onPayload: (payload: string) => void;
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delay = MIN_DELAY_MS;
  #closed = false;

  constructor(connectionString: string, log: Logger, onPayload: (payload: string) => void) {
    this.#connectionString = connectionString;
    this.#log = log;
    this.#onPayload = onPayload;
  }

  /** One attempt; on failure another is scheduled, so the start never fails for this. */
  async connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.#connectionString, connectionTimeoutMillis: 5000, keepAlive: true });
    this.#client = client;
    client.on('notification', (message) => {
      if (message.channel === REALTIME_CHANNEL && message.payload) this.#onPayload(message.payload);
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      await client.query(`listen ${REALTIME_CHANNEL}`);
      if (this.#delay > MIN_DELAY_MS) this.#log.info('realtime listener reconnected');
      this.#delay = MIN_DELAY_MS;
    } catch (error) {
      this.#lost(client, error as Error);
    }
  }

  #lost(client: pg.Client, error?: Error): void {
    if (this.#closed || this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => {});
    // Messages sent while disconnected are lost: the live feed is a convenience, pages stay right.
    this.#log.warn({ err: error?.message, retryInMs: this.#delay }, 'realtime listener lost its database connection');
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.connect();
    }, this.#delay);
    this.#timer.unref();
    this.#delay = Math.min(this.#delay * 2, MAX_DELAY_MS);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }
}
