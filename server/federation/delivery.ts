// Outgoing delivery: one durable job per receiving inbox, signed as Mastodon checks it
// (draft-cavage HTTP Signatures, rsa-sha256, Digest), posted through the outbound guard.
//
// - A local action records a `federation.fanout` job in its own transaction. The fan-out job
//   creates one `federation.deliver` job per inbox (followers deduplicated by shared inbox) in a
//   single transaction, with ids derived from (activity, inbox): running it twice after a crash
//   creates no duplicate.
// - A deliver job completes only after the POST succeeded; 404/410 are permanent (no retry);
//   other failures are retried by pg-boss with growing delays over about a week. After
//   HOST_FAILURES failures in a row a host is marked unreachable and its jobs fail fast (no
//   connection attempt) until the pause ends, then one probe goes through.
// - Parallel across hosts, at most PER_HOST at once to one host: a slow host holds back nobody.
//   pg-boss workers poll every half second; to drain a large fan-out quickly, the first job that
//   arrives starts a pump that fetches jobs in batches and runs them concurrently.
import crypto from 'node:crypto';
import { fromKysely } from 'pg-boss';
import type { Executor } from '../core/events.ts';
import { loadActorRsaKeys } from '../discussions/local-actors.repository.ts';
import { deliveryInboxes, listBlocks, listHosts, recordHostFailure, recordHostSuccesses } from './federation.repository.ts';
import { GuardError } from './guard.ts';
import { QueuePump, Released } from './pump.ts';
import type { FederationRuntime } from './runtime.ts';
import { type PreparedBody, prepareBody, Signer } from './signing.ts';

export const FANOUT_QUEUE = 'federation.fanout';
export const DELIVER_QUEUE = 'federation.deliver';

export const DELIVERY_POLICY = {
  /** About a week: 60 s doubling to 8 h, then every 8 h. */
  retryLimit: 27,
  retryDelay: 60,
  retryDelayMax: 8 * 3600,
  perHost: 4,
  /** Deliveries in hand at once (most wait for a slot of their host; a few hundred bytes each). */
  concurrency: 256,
  hostFailures: 5,
  hostPauseMs: 3600_000,
};

export interface DeliverJob {
  inbox: string;
  activityId: string;
  activity: Record<string, unknown>;
  /** The local actor (group or person) that signs; absent: the network actor. */
  signer?: string;
}

interface FanoutJob {
  activityId: string;
  activity: Record<string, unknown>;
  /** Inboxes that must not receive it (e.g. the server the news came from). */
  skipHosts?: string[];
}

class PermanentFailure extends Error {}

/** A stable UUID for (activity, inbox): the same delivery is never queued twice. */
export function deliveryJobId(activityId: string, inbox: string): string {
  const h = crypto.createHash('sha256').update(`${activityId}\n${inbox}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Record, inside `trx`, that `activity` goes to every follower. */
export async function enqueueToFollowers(
  rt: FederationRuntime,
  trx: Executor,
  activity: Record<string, unknown>,
  skipHosts: string[] = [],
): Promise<void> {
  const activityId = String(activity.id);
  await rt.app.queue.send<FanoutJob>(FANOUT_QUEUE, { activityId, activity, skipHosts }, { trx, id: deliveryJobId(activityId, '*') });
  rt.fanoutRecorded();
}

/** Record, inside `trx`, that `activity` goes to one inbox. */
export async function enqueueToInbox(
  rt: FederationRuntime,
  trx: Executor,
  inbox: string,
  activity: Record<string, unknown>,
  signer?: string,
): Promise<void> {
  const activityId = String(activity.id);
  const data: DeliverJob = signer ? { inbox, activityId, activity, signer } : { inbox, activityId, activity };
  await rt.app.queue.send<DeliverJob>(DELIVER_QUEUE, data, { trx, id: deliveryJobId(activityId, inbox) });
}

export class Delivery {
  readonly #rt: FederationRuntime;
  readonly #active = new Map<string, number>();
  readonly #waiting = new Map<string, Array<{ wake: (go: boolean) => void; releasable: boolean }>>();
  readonly #healthy = new Set<string>();
  readonly #pump: QueuePump<DeliverJob>;
  readonly #fanoutPump: QueuePump<FanoutJob>;

  constructor(rt: FederationRuntime) {
    this.#rt = rt;
    const { queue } = rt.app;
    this.#pump = new QueuePump<DeliverJob>(
      queue,
      DELIVER_QUEUE,
      (data) => this.deliver(data, true),
      DELIVERY_POLICY.concurrency,
      rt.app.log,
    );
    // The fan-out job is recorded inside the local transaction, which has not committed yet when
    // we hear of it: look for it shortly after, rather than at the workers' next half-second poll
    // (when it is not there yet, the regular worker still takes it).
    this.#fanoutPump = new QueuePump<FanoutJob>(queue, FANOUT_QUEUE, (data) => this.fanout(data), 2, rt.app.log);
    rt.fanoutRecorded = () => {
      for (const ms of [20, 100, 250]) setTimeout(() => this.#fanoutPump.kick(), ms).unref();
    };
    queue.define<FanoutJob>({
      name: FANOUT_QUEUE,
      retryLimit: 10,
      retryDelay: 10,
      handler: (data) => this.fanout(data),
    });
    queue.define<DeliverJob>({
      name: DELIVER_QUEUE,
      retryLimit: DELIVERY_POLICY.retryLimit,
      retryDelay: DELIVERY_POLICY.retryDelay,
      retryDelayMax: DELIVERY_POLICY.retryDelayMax,
      expireInSeconds: 120,
      concurrency: 2,
      handler: async (data) => {
        this.kick();
        await this.deliver(data);
      },
    });
  }

  /** Create one deliver job per inbox, all in one transaction (idempotent). */
  async fanout(job: FanoutJob): Promise<void> {
    const { db, queue } = this.#rt.app;
    const skip = new Set(job.skipHosts ?? []);
    await db.transaction().execute(async (trx) => {
      const inboxes = (await deliveryInboxes(trx)).filter((inbox) => !skip.has(new URL(inbox).host));
      for (let i = 0; i < inboxes.length; i += 500) {
        const jobs = inboxes.slice(i, i + 500).map((inbox) => ({
          id: deliveryJobId(job.activityId, inbox),
          data: { inbox, activityId: job.activityId, activity: job.activity } satisfies DeliverJob,
          retryLimit: DELIVERY_POLICY.retryLimit,
          retryDelay: DELIVERY_POLICY.retryDelay,
          retryBackoff: true,
          retryDelayMax: DELIVERY_POLICY.retryDelayMax,
          expireInSeconds: 120,
        }));
        await queue.boss.insert(DELIVER_QUEUE, jobs, { db: fromKysely(trx) });
      }
    });
    this.kick();
  }

  /** Post one activity to one inbox; throws (to be retried) unless it succeeded or failed for good. */
  async deliver(job: DeliverJob, releasable = false): Promise<void> {
    try {
      await this.#deliverOnce(job, releasable);
    } catch (error) {
      if (error instanceof PermanentFailure) {
        this.#rt.app.log.warn({ host: new URL(job.inbox).host, reason: error.message }, 'delivery abandoned');
        return;
      }
      throw error;
    }
  }

  async #deliverOnce(job: DeliverJob, releasable: boolean): Promise<void> {
    const rt = this.#rt;
    const target = new URL(job.inbox);
    const { host } = target;
    if (await this.#blocked(job.inbox)) throw new PermanentFailure('host blocked');
    if (!this.#healthy.has(host)) {
      const until = (await this.#hostStates()).get(host);
      if (until && until > new Date()) throw new Error(`${host} is marked unreachable until ${until.toISOString()}`);
    }
    // Before taking a slot: an actor that no longer exists is not the host's failure.
    const signer = await this.#signer(job.signer);
    await this.#acquire(host, releasable);
    let status: number;
    try {
      const body = this.#bodyOf(job);
      const headers = await signer.headers(target, body);
      status = (await rt.guard.exchange(target, { method: 'POST', headers, body: body.bytes })).status;
    } catch (error) {
      await this.#failed(host);
      if (error instanceof GuardError && (error.kind === 'refused' || error.kind === 'bad_url')) throw new PermanentFailure(error.message);
      throw error;
    } finally {
      this.#release(host);
    }
    if (status >= 200 && status < 300) {
      if (!this.#healthy.has(host)) this.#succeeded(host);
      return;
    }
    if (status === 404 || status === 410) throw new PermanentFailure(`HTTP ${status}`);
    await this.#failed(host);
    throw new Error(`${host} answered HTTP ${status}`);
  }

  // A fan-out posts the same activity to every inbox: serialised and digested once.
  readonly #bodies = new Map<string, PreparedBody>();
  #bodyOf(job: DeliverJob): PreparedBody {
    let body = this.#bodies.get(job.activityId);
    if (!body) {
      body = prepareBody(job.activity);
      this.#bodies.set(job.activityId, body);
      if (this.#bodies.size > 32) this.#bodies.delete(this.#bodies.keys().next().value as string);
    }
    return body;
  }

  #signerPromise: Promise<Signer> | undefined;
  // Groups and people sign with their own key (Mastodon checks that the key belongs to the actor).
  readonly #actorSigners = new Map<string, Promise<Signer>>();
  #signer(username?: string): Promise<Signer> {
    if (username && username !== this.#rt.handle) {
      let signer = this.#actorSigners.get(username);
      if (!signer) {
        signer = loadActorRsaKeys(this.#rt.app.db, username).then((keys) => {
          if (!keys) throw new PermanentFailure(`no local actor ${username}`);
          return new Signer(keys.privateKey, `${new URL(`/ap/actors/${username}`, this.#rt.urls.publicUrl).href}#main-key`);
        });
        signer.catch(() => this.#actorSigners.delete(username));
        this.#actorSigners.set(username, signer);
        if (this.#actorSigners.size > 256) this.#actorSigners.delete(this.#actorSigners.keys().next().value as string);
      }
      return signer;
    }
    this.#signerPromise ??= this.#rt.keys().then(
      (keys) => new Signer(keys.rsa.privateKey, this.#rt.urls.keyId.href),
      (error) => {
        this.#signerPromise = undefined;
        throw error;
      },
    );
    return this.#signerPromise;
  }

  // Which hosts are paused (unreachable_until), read in one query and kept a few seconds,
  // rather than one query per delivery to a host not yet seen answering.
  #hosts: { at: number; until: Promise<Map<string, Date>> } | undefined;
  #hostStates(): Promise<Map<string, Date>> {
    if (!this.#hosts || Date.now() - this.#hosts.at > 5000) {
      const until = listHosts(this.#rt.app.db).then(
        (rows) => new Map(rows.filter((r) => r.unreachable_until).map((r) => [r.host, r.unreachable_until as Date])),
      );
      until.catch(() => {
        this.#hosts = undefined;
      });
      this.#hosts = { at: Date.now(), until };
    }
    return this.#hosts.until;
  }

  // Successes are written in one statement for all the hosts that answered in the last 200 ms.
  readonly #succeededHosts = new Set<string>();
  #successTimer: NodeJS.Timeout | undefined;
  #succeeded(host: string): void {
    this.#healthy.add(host);
    this.#succeededHosts.add(host);
    this.#successTimer ??= setTimeout(() => void this.#flushSuccesses(), 200);
  }

  async #flushSuccesses(): Promise<void> {
    clearTimeout(this.#successTimer);
    this.#successTimer = undefined;
    const hosts = [...this.#succeededHosts];
    this.#succeededHosts.clear();
    if (hosts.length === 0) return;
    await recordHostSuccesses(this.#rt.app.db, hosts).catch((error) =>
      this.#rt.app.log.warn({ err: error }, 'delivery: could not record host successes'),
    );
  }

  // The blocklist changes rarely and is read for every delivery: kept for a few seconds.
  #blocks: { at: number; hosts: Set<string>; actors: Set<string> } | undefined;
  async #blocked(inbox: string): Promise<boolean> {
    if (!this.#blocks || Date.now() - this.#blocks.at > 5000) {
      const rows = await listBlocks(this.#rt.app.db);
      this.#blocks = {
        at: Date.now(),
        hosts: new Set(rows.filter((r) => r.kind === 'host').map((r) => r.value)),
        actors: new Set(rows.filter((r) => r.kind === 'actor').map((r) => r.value)),
      };
    }
    return this.#blocks.hosts.has(new URL(inbox).host) || this.#blocks.actors.has(inbox);
  }

  async #failed(host: string): Promise<void> {
    this.#healthy.delete(host);
    this.#succeededHosts.delete(host);
    await recordHostFailure(this.#rt.app.db, host, DELIVERY_POLICY.hostFailures, DELIVERY_POLICY.hostPauseMs).catch(() => {});
    this.#hosts = undefined; // a pause may have started
  }

  /** A slot for `host`; a `releasable` wait (pump) ends with Released when the process stops. */
  async #acquire(host: string, releasable: boolean): Promise<void> {
    if (this.#pump.stopped && releasable) throw new Released();
    const active = this.#active.get(host) ?? 0;
    if (active < DELIVERY_POLICY.perHost) {
      this.#active.set(host, active + 1);
      return;
    }
    const go = await new Promise<boolean>((wake) => {
      const list = this.#waiting.get(host) ?? [];
      list.push({ wake, releasable });
      this.#waiting.set(host, list);
    });
    if (!go) throw new Released();
  }

  #release(host: string): void {
    const next = this.#waiting.get(host)?.shift();
    if (next) {
      next.wake(true); // the slot passes to the next waiter
      return;
    }
    this.#active.set(host, (this.#active.get(host) ?? 1) - 1);
  }

  /** Start draining the deliver queue in batches (see pump.ts). */
  kick(): void {
    this.#pump.kick();
  }

  /** Stop fetching and let the deliveries in hand finish (their jobs complete or go back). */
  async stop(): Promise<void> {
    const stopping = Promise.all([this.#pump.stop(), this.#fanoutPump.stop()]);
    for (const [host, list] of this.#waiting) {
      for (const waiter of list.filter((w) => w.releasable)) waiter.wake(false);
      this.#waiting.set(
        host,
        list.filter((w) => !w.releasable),
      );
    }
    await stopping;
    await this.#flushSuccesses();
  }
}
