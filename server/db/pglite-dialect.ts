// A Kysely dialect for PGlite, the embedded PostgreSQL. PGlite has one connection; the job queue
// (pg-boss) shares it. A Kysely transaction therefore runs inside `pglite.transaction()`, which holds
// PGlite's own exclusive lock: queries from elsewhere (pg-boss, other requests) wait until it ends
// instead of slipping in between BEGIN and COMMIT.
import type { PGlite, Transaction } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

const ROLLBACK = Symbol('rollback');

class PgliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;
  #tx: Transaction | undefined;
  #finish: ((outcome: 'commit' | typeof ROLLBACK) => void) | undefined;
  #done: Promise<unknown> | undefined;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const target = this.#tx ?? this.#pglite;
    const result = await target.query<R>(compiled.sql, compiled.parameters as unknown[], { rowMode: 'object' });
    const affected = result.affectedRows;
    return {
      rows: result.rows,
      ...(affected !== undefined && affected > 0 ? { numAffectedRows: BigInt(affected) } : {}),
    };
  }

  // Streaming is not offered by PGlite: the rows come in one batch.
  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const result = await this.executeQuery<R>(compiled);
    yield result;
  }

  async begin(settings: TransactionSettings): Promise<void> {
    if (this.#tx) throw new Error('PGlite connection is already in a transaction');
    let started!: () => void;
    const ready = new Promise<void>((resolve) => {
      started = resolve;
    });
    const outcome = new Promise<'commit' | typeof ROLLBACK>((resolve) => {
      this.#finish = resolve;
    });
    this.#done = this.#pglite.transaction(async (tx) => {
      this.#tx = tx;
      if (settings.isolationLevel) await tx.query(`set transaction isolation level ${settings.isolationLevel}`);
      started();
      if ((await outcome) === ROLLBACK) await tx.rollback();
    });
    // If BEGIN itself fails, surface it instead of waiting forever.
    await Promise.race([ready, this.#done]);
  }

  async end(how: 'commit' | typeof ROLLBACK): Promise<void> {
    const done = this.#done;
    this.#finish?.(how);
    try {
      await done;
    } finally {
      this.#tx = undefined;
      this.#finish = undefined;
      this.#done = undefined;
    }
  }
}

class PgliteDriver implements Driver {
  readonly #pglite: PGlite;
  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }
  async init(): Promise<void> {
    await this.#pglite.waitReady;
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    return new PgliteConnection(this.#pglite);
  }
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await (connection as PgliteConnection).begin(settings);
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).end('commit');
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).end(ROLLBACK);
  }
  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint "${name.replaceAll('"', '')}"`));
  }
  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint "${name.replaceAll('"', '')}"`));
  }
  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release savepoint "${name.replaceAll('"', '')}"`));
  }
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {
    // The owner of the PGlite instance closes it, after the job queue has stopped using it.
  }
}

export class PgliteDialect implements Dialect {
  readonly #pglite: PGlite;
  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }
  createDriver(): Driver {
    return new PgliteDriver(this.#pglite);
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}
