// Fedify's message queue on our pg-boss queue: Fedify enqueues its tasks (incoming activities
// to process) and the pg-boss worker hands each one to the listener Fedify registered with
// `listen()`. The queue is durable: a task survives a restart. Fedify retries a failed task
// itself (nativeRetrial is false), so a job that throws is retried by pg-boss only as a last
// resort (a crash in the middle).
import type { MessageQueue, MessageQueueEnqueueOptions, MessageQueueListenOptions } from '@fedify/fedify';
import type { Logger } from 'pino';
import type { JobQueue } from '../jobs/queue.ts';
import { QueuePump } from './pump.ts';

export const FEDIFY_QUEUE = 'federation.fedify';

type Listener = (message: unknown) => Promise<void> | void;

function delayMs(options?: MessageQueueEnqueueOptions): number {
  const delay = options?.delay;
  if (!delay) return 0;
  try {
    return Math.max(0, delay.total({ unit: 'millisecond' }));
  } catch {
    return Math.max(0, (((delay.days * 24 + delay.hours) * 60 + delay.minutes) * 60 + delay.seconds) * 1000 + delay.milliseconds);
  }
}

export class PgBossMessageQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly #queue: JobQueue;
  #listener: Listener | undefined;
  #waiting: Array<() => void> = [];
  readonly #pump: QueuePump<{ message: unknown }>;

  /** Defines the pg-boss queue: call while the app is being built. */
  constructor(queue: JobQueue, log: Logger) {
    this.#queue = queue;
    const handle = async ({ message }: { message: unknown }) => {
      const listener = await this.#waitForListener();
      await listener(message);
    };
    // A burst of incoming activities is drained in batches (see pump.ts).
    this.#pump = new QueuePump(queue, FEDIFY_QUEUE, handle, 64, log);
    queue.define<{ message: unknown }>({
      name: FEDIFY_QUEUE,
      concurrency: 2,
      retryLimit: 3,
      retryDelay: 30,
      handler: async (data) => {
        this.#pump.kick();
        await handle(data);
      },
    });
  }

  async enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    const ms = delayMs(options);
    if (ms > 0) {
      await this.#queue.send(FEDIFY_QUEUE, { message }, { startAfter: new Date(Date.now() + ms) });
      return;
    }
    // Activities that arrive together (a burst of POSTs to the inbox) are recorded together: one
    // statement for all those enqueued in the same turn of the event loop. Each POST is answered
    // only once its activity is stored, as before.
    await new Promise<void>((resolve, reject) => {
      this.#batch.push({ message, resolve, reject });
      if (this.#batch.length === 1) setImmediate(() => void this.#flush());
    });
  }

  async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    const ms = delayMs(options);
    if (ms > 0) {
      for (const message of messages) await this.enqueue(message, options);
      return;
    }
    await this.#insert(messages);
  }

  #batch: Array<{ message: unknown; resolve: () => void; reject: (error: unknown) => void }> = [];

  async #flush(): Promise<void> {
    const batch = this.#batch.splice(0);
    try {
      await this.#insert(batch.map((b) => b.message));
      for (const b of batch) b.resolve();
    } catch (error) {
      for (const b of batch) b.reject(error);
    }
  }

  async #insert(messages: readonly unknown[]): Promise<void> {
    if (messages.length === 0) return;
    await this.#queue.boss.insert(
      FEDIFY_QUEUE,
      messages.map((message) => ({ data: { message } })),
    );
    // In a process that works the queue, start on it now rather than at the next poll.
    if (this.#listener) this.#pump.kick();
  }

  /** Stop taking jobs; wait for those in hand. */
  stop(): Promise<void> {
    return this.#pump.stop();
  }

  listen(handler: Listener, options?: MessageQueueListenOptions): Promise<void> {
    this.#listener = handler;
    for (const wake of this.#waiting.splice(0)) wake();
    // Fedify expects listen() to last as long as the queue runs: until the signal aborts.
    return new Promise((resolve) => {
      if (!options?.signal) return;
      if (options.signal.aborted) return resolve();
      options.signal.addEventListener('abort', () => {
        this.#pump.stop().finally(() => {
          this.#listener = undefined;
          resolve();
        });
      });
    });
  }

  // A job can arrive before federation.startQueue() has registered the listener (start-up race).
  async #waitForListener(): Promise<Listener> {
    if (this.#listener) return this.#listener;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Fedify queue listener not started')), 10_000);
      this.#waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.#listener as unknown as Listener;
  }
}
