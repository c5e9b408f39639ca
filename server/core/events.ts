// Typed domain events. Capabilities publish what happened ("an announcement was published");
// federation, newsletters and realtime subscribe, without importing each other's internals.
// Handlers run inside the publisher's transaction, so the jobs they enqueue are committed with the
// change that caused them, or not at all. A handler must only record work (enqueue a job, write a
// row); anything slow or fallible (a delivery, an email) happens in the job, so that a federation
// failure never fails the local action.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';

/** Each capability adds its events to this map by declaration merging (see its *.events.ts). */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in capability modules.
export interface DomainEventMap {}

export type DomainEventName = keyof DomainEventMap;
export type Executor = Kysely<Database> | Transaction<Database>;
type Handler<K extends DomainEventName> = (payload: DomainEventMap[K], trx: Executor) => Promise<void>;

export class DomainEvents {
  readonly #handlers = new Map<DomainEventName, Array<(payload: unknown, trx: Executor) => Promise<void>>>();

  on<K extends DomainEventName>(name: K, handler: Handler<K>): void {
    const list = this.#handlers.get(name) ?? [];
    list.push(handler as (payload: unknown, trx: Executor) => Promise<void>);
    this.#handlers.set(name, list);
  }

  async publish<K extends DomainEventName>(trx: Executor, name: K, payload: DomainEventMap[K]): Promise<void> {
    for (const handler of this.#handlers.get(name) ?? []) await handler(payload, trx);
  }
}
