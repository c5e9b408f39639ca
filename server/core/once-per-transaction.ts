// Work that a transaction needs once however many changes it carries: when the federation
// stores many received announcements in one shared transaction, each of them asks for the
// newsletter alert; the first asks, the others share its answer. Outside a transaction nothing
// is remembered (each call runs).
import type { Executor } from './events.ts';

const memos = new WeakMap<Executor, Map<string, Promise<unknown>>>();

export function oncePerTransaction<T>(executor: Executor, key: string, work: () => Promise<T>): Promise<T> {
  if (!executor.isTransaction) return work();
  let memo = memos.get(executor);
  if (!memo) {
    memo = new Map();
    memos.set(executor, memo);
  }
  let result = memo.get(key) as Promise<T> | undefined;
  if (!result) {
    result = work();
    memo.set(key, result);
  }
  return result;
}
