// The inbound path stores activities many at a time: Fedify's key-value reads and writes batched,
// incoming activities enqueued in one statement, stored in shared transactions, and the
// block/follow/actor lookups kept in memory. Each must keep what it replaced guaranteed: values
// read back as written (in order), nothing lost, one failure failing only its own work, a block
// or a follow seen at once, and the same activity twice stored once.
import type { Transaction } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/schema.ts';
import {
  addBlock,
  deleteBlock,
  getRemoteActor,
  insertFollow,
  isBlocked,
  isFollowing,
  saveRemoteActor,
  setFollowStatus,
} from '../../server/federation/federation.repository.ts';
import { DatabaseKvStore } from '../../server/federation/fedify-kv.repository.ts';
import { PgBossMessageQueue } from '../../server/federation/fedify-queue.ts';
import { inSharedTransaction } from '../../server/federation/shared-transaction.ts';
import { JobQueue } from '../../server/jobs/queue.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type FakeServer, type Network, startFakeServer, startNetwork, waitFor } from '../helpers/federation.ts';

describe('batched key-value store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('stores a burst of writes, keeps the later of two writes to a key, and reads them back', async () => {
    const kv = new DatabaseKvStore(db.db);
    const writes = Array.from({ length: 300 }, (_, i) => kv.set(['burst', String(i)], { i }));
    // Same key twice in the same turn, and a read before anything is stored: the later value.
    writes.push(kv.set(['burst', 'twice'], 'first'), kv.set(['burst', 'twice'], 'second'));
    expect(await kv.get(['burst', 'twice'])).toBe('second');
    await Promise.all(writes);
    // A fresh store reads from the database only.
    const other = new DatabaseKvStore(db.db);
    const values = await Promise.all([
      other.get(['burst', '0']),
      other.get(['burst', '299']),
      other.get(['burst', 'twice']),
      other.get(['burst', 'missing']),
    ]);
    expect(values).toEqual([{ i: 0 }, { i: 299 }, 'second', undefined]);
    const count = await db.db
      .selectFrom('fedify_kv')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('key', 'like', 'burst%')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(301);
  });

  it('orders writes across batches, and a delete after a write', async () => {
    const kv = new DatabaseKvStore(db.db);
    const first = kv.set(['order'], 1);
    await new Promise((r) => setImmediate(r));
    const second = kv.set(['order'], 2);
    await Promise.all([first, second]);
    expect(await new DatabaseKvStore(db.db).get(['order'])).toBe(2);
    void kv.set(['gone'], 'x');
    await kv.delete(['gone']);
    expect(await new DatabaseKvStore(db.db).get(['gone'])).toBeUndefined();
  });
});

describe('shared transactions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  const put = (key: string) => (trx: Transaction<Database>) =>
    trx
      .insertInto('settings')
      .values({ key, value: JSON.stringify(key), updated_at: new Date() })
      .execute();
  const keys = async () =>
    (await db.db.selectFrom('settings').select('key').where('key', 'like', 'shared-%').execute()).map((r) => r.key).sort();

  it('commits the pieces asked for together, and a failing piece fails alone without keeping its writes', async () => {
    const results = await Promise.allSettled([
      inSharedTransaction(db.db, 'a', async (trx) => {
        await put('shared-a')(trx);
        return 'a';
      }),
      inSharedTransaction(db.db, 'broken', async (trx) => {
        await put('shared-broken')(trx);
        throw new Error('refused');
      }),
      inSharedTransaction(db.db, 'c', async (trx) => {
        await put('shared-c')(trx);
        return 'c';
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<string>).value).toBe('a');
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('refused');
    expect((await keys()).filter((k) => !k.startsWith('shared-burst') && k !== 'shared-order')).toEqual(['shared-a', 'shared-c']);
  });

  it('runs the pieces of one key in the order they came, each seeing the previous one', async () => {
    const seen = await Promise.all(
      ['first', 'second', 'third'].map((label) =>
        inSharedTransaction(db.db, 'same', async (trx) => {
          const before = await trx.selectFrom('settings').select('value').where('key', '=', 'shared-order').executeTakeFirst();
          await trx
            .insertInto('settings')
            .values({ key: 'shared-order', value: JSON.stringify(label), updated_at: new Date() })
            .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(label) }))
            .execute();
          return before?.value ?? null;
        }),
      ),
    );
    expect(seen).toEqual([null, 'first', 'second']);
  });

  it('stores a large burst (more pieces than one transaction takes)', async () => {
    await Promise.all(Array.from({ length: 150 }, (_, i) => inSharedTransaction(db.db, `burst-${i}`, put(`shared-burst-${i}`))));
    expect((await keys()).filter((k) => k.startsWith('shared-burst-'))).toHaveLength(150);
  });
});

describe('message queue enqueued in batches', () => {
  let db: TestDatabase;
  let queue: JobQueue;
  const received: unknown[] = [];
  const stop = new AbortController();
  beforeAll(async () => {
    db = await createTestDatabase();
    const log = pino({ level: 'silent' });
    queue = new JobQueue(db, log);
    const mq = new PgBossMessageQueue(queue, log);
    await queue.start({ work: true });
    void mq.listen(async (message) => void received.push(message), { signal: stop.signal });
    await Promise.all(Array.from({ length: 120 }, (_, i) => mq.enqueue({ n: i })));
  });
  afterAll(async () => {
    stop.abort();
    await queue?.stop(2000);
    await db?.close();
  });

  it('hands every message of a burst to the listener exactly once', async () => {
    await waitFor(() => received.length >= 120, { what: '120 messages' });
    await new Promise((r) => setTimeout(r, 300));
    const seen = received.map((m) => (m as { n: number }).n).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 120 }, (_, i) => i));
  });
});

describe('cached lookups', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('sees a block, an unblock, an accepted follow and a refreshed actor at once', async () => {
    const actor = {
      id: 'https://nord.example/actor',
      handle: 'nord@nord.example',
      name: 'Nord',
      url: null,
      inbox: 'https://nord.example/inbox',
      sharedInbox: null,
    };
    expect(await isBlocked(db.db, actor.id)).toBe(false);
    const block = await addBlock(db.db, 'host', 'nord.example');
    expect(await isBlocked(db.db, actor.id)).toBe(true);
    await deleteBlock(db.db, block);
    expect(await isBlocked(db.db, actor.id)).toBe(false);

    expect(await isFollowing(db.db, actor.id)).toBe(false);
    await insertFollow(db.db, actor, 'https://local.example/follow');
    expect(await isFollowing(db.db, actor.id)).toBe(false);
    await setFollowStatus(db.db, actor.id, 'accepted');
    expect(await isFollowing(db.db, actor.id)).toBe(true);

    expect(await getRemoteActor(db.db, actor.id, 60_000)).toBeUndefined();
    await saveRemoteActor(db.db, actor);
    expect((await getRemoteActor(db.db, actor.id, 60_000))?.name).toBe('Nord');
    await saveRemoteActor(db.db, { ...actor, name: 'Nord renamed' });
    expect((await getRemoteActor(db.db, actor.id, 60_000))?.name).toBe('Nord renamed');
  });
});

describe('a burst of signed activities on a real instance', () => {
  let hub: Network;
  let nord: FakeServer;
  beforeAll(async () => {
    [hub, nord] = await Promise.all([startNetwork('reseau'), startFakeServer('nord')]);
    const info = {
      id: nord.actorId,
      handle: `nord@${new URL(nord.url).host}`,
      name: 'Nord',
      url: null,
      inbox: `${nord.url}/actor/inbox`,
      sharedInbox: `${nord.url}/inbox`,
    };
    await insertFollow(hub.ctx.db, info, `${nord.url}/follow`);
    await setFollowStatus(hub.ctx.db, nord.actorId, 'accepted');
  });
  afterAll(async () => {
    await Promise.all([hub?.destroy(), nord?.close()]);
  });

  it('stores each of many concurrent activities once, the same activity sent twice included', async () => {
    const inbox = `${hub.url}/inbox`;
    const create = (n: number) => ({
      '@context': 'https://www.w3.org/ns/activitystreams',
      id: `${nord.url}/activities/burst-${n}`,
      type: 'Create',
      actor: nord.actorId,
      to: 'https://www.w3.org/ns/activitystreams#Public',
      object: {
        id: `${nord.url}/articles/burst-${n}`,
        type: 'Article',
        attributedTo: nord.actorId,
        name: `Annonce ${n}`,
        content: `<p>Contenu ${n}</p>`,
        published: new Date().toISOString(),
      },
    });
    // The first one alone (the sender's key is fetched once), then 30 at once, one of them twice.
    expect((await nord.sign(inbox, create(0))).status).toBe(202);
    const statuses = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => nord.sign(inbox, create(i + 1))),
      nord.sign(inbox, create(7)),
    ]);
    expect(statuses.map((r) => r.status)).toEqual(Array(31).fill(202));
    const stored = async () =>
      hub.ctx.db.selectFrom('announcements').select(['ap_id']).where('ap_id', 'like', `${nord.url}/articles/burst-%`).execute();
    await waitFor(async () => (await stored()).length >= 31, { what: '31 announcements' });
    await new Promise((r) => setTimeout(r, 500));
    const rows = await stored();
    expect(rows).toHaveLength(31);
    expect(new Set(rows.map((r) => r.ap_id)).size).toBe(31);
  });
});
