// Fedify's message queue on our pg-boss queue: Fedify enqueues its tasks (incoming activities
// to process) and the pg-boss worker hands each one to the listener Fedify registered with
// `listen()`. The queue is durable: a task survives a restart. Fedify retries a failed task
// itself (nativeRetrial is false), so a job that throws is retried by pg-boss only as a last
// resort (a crash in the middle).
import type { MessageQueue, MessageQueueEnqueueOptions, MessageQueueListenOptions } from '@fedify/fedify';
import type { JobQueue } from '../jobs/queue.ts';

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

  /** Defines the pg-boss queue: call while the app is being built. */
  constructor(queue: JobQueue) {
    this.#queue = queue;
    queue.define<{ message: unknown }>({
      name: FEDIFY_QUEUE,
      concurrency: 8,
      retryLimit: 3,
      retryDelay: 30,
      handler: async ({ message }) => {
        const listener = await this.#waitForListener();
        await listener(message);
      },
    });
  }

  async enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    const ms = delayMs(options);
    await this.#queue.send(FEDIFY_QUEUE, { message }, ms > 0 ? { startAfter: new Date(Date.now() + ms) } : {});
  }

  async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    for (const message of messages) await this.enqueue(message, options);
  }

  listen(handler: Listener, options?: MessageQueueListenOptions): Promise<void> {
    this.#listener = handler;
    for (const wake of this.#waiting.splice(0)) wake();
    // Fedify expects listen() to last as long as the queue runs: until the signal aborts.
    return new Promise((resolve) => {
      if (!options?.signal) return;
      if (options.signal.aborted) return resolve();
      options.signal.addEventListener('abort', () => {
        this.#listener = undefined;
        resolve();
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
