// Publishing to the live feed. A message goes through PostgreSQL NOTIFY on one channel, sent inside
// the caller's transaction: it is delivered when (and only if) the change commits, to every web
// process of the instance (each one LISTENs and relays to its own sockets). Same SQL on PGlite.
import { sql } from 'kysely';
import type { Executor } from '../core/events.ts';

export const REALTIME_CHANNEL = 'amap_realtime';

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; ours stay far below (ids, a title, a url). */
export const MAX_REALTIME_PAYLOAD = 4000;

/** Topics a visitor may follow on /live. Read-only: visitors receive, never send. */
export const PUBLIC_TOPICS: ReadonlySet<string> = new Set(['announcements']);

// Families of topics a capability opens (one per group, say): a pattern each, anchored.
const topicPatterns: RegExp[] = [];

/** Opens a family of read-only topics on /live, e.g. /^discussions\.group\.[0-9a-f-]{36}$/. */
export function addPublicTopicPattern(pattern: RegExp): void {
  if (!topicPatterns.some((p) => p.source === pattern.source)) topicPatterns.push(pattern);
}

/** True for a topic visitors may follow. */
export function isPublicTopic(topic: string): boolean {
  return PUBLIC_TOPICS.has(topic) || topicPatterns.some((p) => p.test(topic));
}

// Families of topics only editors (and admins) may follow: the progress of a newsletter being sent.
const staffPatterns: RegExp[] = [];

/** Opens a family of topics on /live to signed-in editors only (session cookie or API token). */
export function addStaffTopicPattern(pattern: RegExp): void {
  if (!staffPatterns.some((p) => p.source === pattern.source)) staffPatterns.push(pattern);
}

export function isStaffTopic(topic: string): boolean {
  return staffPatterns.some((p) => p.test(topic));
}

export interface RealtimeMessage {
  topic: string;
  data: Record<string, unknown>;
}

/** The JSON sent to sockets and through NOTIFY, or an error if it is too large for a live message. */
export function encodeRealtimeMessage(topic: string, data: Record<string, unknown>): string {
  const json = JSON.stringify({ topic, data } satisfies RealtimeMessage);
  if (Buffer.byteLength(json) > MAX_REALTIME_PAYLOAD) {
    throw new Error(`Realtime message on ${topic} is ${Buffer.byteLength(json)} bytes; the limit is ${MAX_REALTIME_PAYLOAD}`);
  }
  return json;
}

/** Messages of transactions that send them together (see `gatherRealtime`). */
const gathered = new WeakMap<Executor, string[]>();

/** Queue a live message; it leaves when `executor`'s transaction commits (at once outside one). */
export async function publishRealtime(executor: Executor, topic: string, data: Record<string, unknown>): Promise<void> {
  const json = encodeRealtimeMessage(topic, data);
  const batch = gathered.get(executor);
  if (batch) batch.push(json);
  else await sql`select pg_notify(${REALTIME_CHANNEL}, ${json})`.execute(executor);
}

/**
 * From now on, the live messages of `trx` are kept and sent by `sendGatheredRealtime(trx)`, in
 * one statement (a transaction storing 64 received announcements sent 64 NOTIFY otherwise).
 * The caller must send them before it commits.
 */
export function gatherRealtime(trx: Executor): void {
  gathered.set(trx, []);
}

export async function sendGatheredRealtime(trx: Executor): Promise<void> {
  const batch = gathered.get(trx);
  gathered.delete(trx);
  if (!batch || batch.length === 0) return;
  // In order: NOTIFYs of one transaction are delivered in the order they were sent.
  await sql`select pg_notify(${REALTIME_CHANNEL}, m.payload) from unnest(${batch}::text[]) with ordinality as m(payload, n) order by m.n`.execute(
    trx,
  );
}

/** Parse a NOTIFY payload; undefined when it is not one of ours. */
export function decodeRealtimeMessage(payload: string): { topic: string; json: string } | undefined {
  try {
    const parsed = JSON.parse(payload) as Partial<RealtimeMessage>;
    if (typeof parsed.topic !== 'string' || typeof parsed.data !== 'object' || parsed.data === null) return undefined;
    return { topic: parsed.topic, json: payload };
  } catch {
    return undefined;
  }
}
