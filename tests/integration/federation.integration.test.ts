// The federation edge of one real instance against fake remote servers on 127.0.0.1: what the
// inbox accepts and refuses (signatures, bodies, authors), and how deliveries behave (one per
// shared inbox, signed, 404/410 permanent, unreachable hosts retried without holding others).
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVER_QUEUE } from '../../server/federation/delivery.ts';
import { upsertFollower } from '../../server/federation/federation.repository.ts';
import { FEDIFY_QUEUE } from '../../server/federation/fedify-queue.ts';
import { startInstance } from '../../server/instance.ts';
import {
  type FakeServer,
  followFake,
  jobsOf,
  type Network,
  publish,
  queueIdle,
  startFakeServer,
  startNetwork,
  storedAnnouncement,
  waitFor,
} from '../helpers/federation.ts';
import { freePort } from '../helpers/instance.ts';

const PUBLIC = 'https://www.w3.org/ns/activitystreams#Public';
let counter = 0;

function article(fake: FakeServer, fields: Record<string, unknown> = {}) {
  const n = ++counter;
  return {
    id: `${fake.url}/articles/${n}`,
    type: 'Article',
    attributedTo: fake.actorId,
    name: `Annonce ${n}`,
    summary: 'Résumé',
    content: '<p>Bonjour <script>alert(1)</script><a href="javascript:alert(2)">lien</a></p>',
    url: `${fake.url}/articles/${n}`,
    published: new Date().toISOString(),
    to: [PUBLIC],
    tag: [{ type: 'Hashtag', name: '#bio' }],
    ...fields,
  };
}

function activity(type: string, fake: FakeServer, object: unknown, actor = fake.actorId) {
  return {
    '@context': ['https://www.w3.org/ns/activitystreams', { Hashtag: 'as:Hashtag' }],
    id: `${fake.url}/activities/${++counter}`,
    type,
    actor,
    to: [PUBLIC],
    object,
  };
}

describe('federation inbox', () => {
  let hub: Network;
  let nord: FakeServer;
  let intrus: FakeServer;
  let inbox: string;

  beforeAll(async () => {
    [hub, nord, intrus] = await Promise.all([startNetwork('reseau'), startFakeServer('nord'), startFakeServer('intrus')]);
    await followFake(hub, nord);
    await followFake(hub, intrus);
    inbox = `${hub.url}/inbox`;
  });
  afterAll(async () => {
    await Promise.all([hub?.destroy(), nord?.close(), intrus?.close()]);
  });

  it('stores a signed Create(Article) from a followed network, sanitized', async () => {
    const object = article(nord);
    const response = await nord.sign(inbox, activity('Create', nord, object));
    expect(response.status).toBe(202);
    const stored = await waitFor(() => storedAnnouncement(hub, object.id), { what: 'stored' });
    expect(stored.title).toBe(object.name);
    expect(stored.tags).toEqual(['bio']);
    expect(stored.content_html).not.toContain('<script');
    expect(stored.content_html).not.toContain('javascript:');
    expect(stored.network_handle).toBe(`nord@${new URL(nord.url).host}`);
  });

  it('answers 401 to unsigned, tampered, stale or wrongly signed posts, and stores nothing', async () => {
    const object = article(nord);
    const body = activity('Create', nord, object);
    const unsigned = await fetch(inbox, {
      method: 'POST',
      headers: { 'content-type': 'application/activity+json' },
      body: JSON.stringify(body),
    });
    expect(unsigned.status).toBe(401);
    const tampered = await nord.sign(inbox, body, { body: JSON.stringify({ ...body, object: { ...object, name: 'Piraté' } }) });
    expect(tampered.status).toBe(401);
    const stale = await nord.sign(inbox, body, { date: new Date(Date.now() - 3 * 3600_000) });
    expect(stale.status).toBe(401);
    // intrus signs an activity that claims to come from nord.
    const impostor = await intrus.sign(inbox, body);
    expect(impostor.status).toBe(401);
    await waitFor(() => queueIdle(hub.ctx, FEDIFY_QUEUE), { what: 'inbox queue idle' });
    expect(await storedAnnouncement(hub, object.id)).toBeUndefined();
  });

  it('answers 400 to malformed JSON, 413 to oversized bodies, 415 to other types, 202 to unknown activities', async () => {
    const malformed = await fetch(inbox, {
      method: 'POST',
      headers: { 'content-type': 'application/activity+json' },
      body: '{"type": "Create",',
    });
    expect(malformed.status).toBe(400);
    const huge = await fetch(inbox, {
      method: 'POST',
      headers: { 'content-type': 'application/activity+json' },
      body: JSON.stringify({ type: 'Create', padding: 'x'.repeat(300 * 1024) }),
    });
    expect(huge.status).toBe(413);
    const text = await fetch(inbox, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(text.status).toBe(415);
    const unknown = await nord.sign(inbox, activity('Like', nord, `${nord.url}/articles/1`));
    expect(unknown.status).toBe(202);
  });

  it('refuses an Update or a Delete from someone who is not the author', async () => {
    const object = article(nord);
    await nord.sign(inbox, activity('Create', nord, object));
    await waitFor(() => storedAnnouncement(hub, object.id), { what: 'stored' });
    // intrus (followed too) sends an Update of nord's article, then a Delete.
    const forged = { ...object, name: 'Modifié par un autre', attributedTo: intrus.actorId };
    expect((await intrus.sign(inbox, activity('Update', intrus, forged))).status).toBe(202);
    expect((await intrus.sign(inbox, activity('Delete', intrus, object.id))).status).toBe(202);
    await waitFor(() => queueIdle(hub.ctx, FEDIFY_QUEUE), { what: 'inbox queue idle' });
    const after = await storedAnnouncement(hub, object.id);
    expect(after?.title).toBe(object.name);
    expect(after?.deleted_at).toBeNull();
    // The author may.
    expect((await nord.sign(inbox, activity('Delete', nord, object.id))).status).toBe(202);
    await waitFor(async () => (await storedAnnouncement(hub, object.id))?.deleted_at, { what: 'deleted by its author' });
  });

  it('ignores news from a network it does not follow, and refuses a blocked one with 403', async () => {
    const stranger = await startFakeServer('inconnu');
    try {
      const object = article(stranger);
      expect((await stranger.sign(inbox, activity('Create', stranger, object))).status).toBe(202);
      await waitFor(() => queueIdle(hub.ctx, FEDIFY_QUEUE), { what: 'inbox queue idle' });
      expect(await storedAnnouncement(hub, object.id)).toBeUndefined();
      const block = await hub.api<{ id: string }>('POST', '/api/v1/blocks', { value: new URL(stranger.url).host });
      expect(block.status).toBe(201);
      expect((await stranger.sign(inbox, activity('Create', stranger, article(stranger)))).status).toBe(403);
      expect((await hub.api('DELETE', `/api/v1/blocks/${block.body.id}`)).status).toBe(204);
    } finally {
      await stranger.close();
    }
  });
});

describe('federation delivery', () => {
  let hub: Network;
  let shared: FakeServer;
  let gone: FakeServer;
  let deadPort: number;

  beforeAll(async () => {
    [hub, shared, gone] = await Promise.all([
      startNetwork('reseau'),
      startFakeServer('partage'),
      startFakeServer('parti', { sharedInbox: false }),
    ]);
    deadPort = await freePort();
    gone.respond.status = 410;
    const host = (url: string) => new URL(url).host;
    // Three followers behind one shared inbox, one whose inbox is gone, one on a dead server.
    for (let i = 0; i < 3; i++) {
      await upsertFollower(
        hub.ctx.db,
        {
          id: `${shared.url}/users/${i}`,
          handle: null,
          name: null,
          url: null,
          inbox: `${shared.url}/users/${i}/inbox`,
          sharedInbox: `${shared.url}/inbox`,
        },
        `${shared.url}/f/${i}`,
        'accepted',
      );
    }
    await upsertFollower(
      hub.ctx.db,
      { id: gone.actorId, handle: null, name: null, url: null, inbox: `${gone.url}/actor/inbox`, sharedInbox: null },
      `${gone.url}/f`,
      'accepted',
    );
    await upsertFollower(
      hub.ctx.db,
      {
        id: `http://127.0.0.1:${deadPort}/actor`,
        handle: null,
        name: null,
        url: null,
        inbox: `http://127.0.0.1:${deadPort}/inbox`,
        sharedInbox: null,
      },
      'http://x/f',
      'accepted',
    );
    expect(host(shared.url)).not.toBe(host(gone.url));
  });
  afterAll(async () => {
    await Promise.all([hub?.destroy(), shared?.close(), gone?.close()]);
  });

  it('delivers once per shared inbox, signed as Mastodon expects; 410 is final; a dead host is retried later', async () => {
    const news = await publish(hub, { title: 'Assemblée générale', body: 'Le 3 mars.' });
    await waitFor(() => shared.received.length >= 1 && gone.received.length >= 1, { what: 'deliveries' });
    await waitFor(
      async () => (await jobsOf(hub.ctx, DELIVER_QUEUE)).some((j) => j.data.inbox.includes(`:${deadPort}/`) && j.state === 'retry'),
      { what: 'dead host scheduled for retry' },
    );
    expect(shared.received).toHaveLength(1);
    expect(shared.received[0]?.path).toBe('/inbox');
    const delivered = shared.received[0]!;
    expect(delivered.body.type).toBe('Create');
    expect(delivered.body.object.id).toBe(news.apId);
    const signature = String(delivered.headers.signature);
    expect(signature).toContain(`keyId="${hub.url}/ap/actors/reseau#main-key"`);
    expect(signature).toContain('algorithm="rsa-sha256"');
    const signed = /headers="([^"]+)"/.exec(signature)?.[1]?.split(' ') ?? [];
    expect(signed).toEqual(expect.arrayContaining(['(request-target)', 'host', 'date', 'digest']));
    expect(String(delivered.headers.digest)).toMatch(/^SHA-256=/);

    // Permanent: completed (jobs are completed in small batches, hence the wait), not retried.
    const goneJob = await waitFor(
      async () =>
        (await jobsOf(hub.ctx, DELIVER_QUEUE)).find(
          (j) => j.data.inbox.startsWith(gone.url) && j.state !== 'active' && j.state !== 'created',
        ),
      { what: 'the 410 delivery settled', timeoutMs: 10_000 },
    );
    expect(goneJob.state).toBe('completed');
    expect(gone.received).toHaveLength(1);
    const hosts = await hub.ctx.db.selectFrom('federation_delivery_hosts').selectAll().execute();
    expect(hosts.find((h) => h.host === `127.0.0.1:${deadPort}`)?.failures).toBeGreaterThan(0);
  });
});

describe('federation delivery across a restart', () => {
  it('loses nothing and delivers each inbox exactly once when the instance stops in the middle of a fan-out', async () => {
    const hub = await startNetwork('reseau');
    const receiver = await startFakeServer('lent', { sharedInbox: false });
    receiver.respond.delayMs = 150;
    let restarted: Awaited<ReturnType<typeof startInstance>> | undefined;
    try {
      const total = 40;
      for (let i = 0; i < total; i++) {
        const id = `${receiver.url}/users/${i}`;
        await upsertFollower(
          hub.ctx.db,
          { id, handle: null, name: null, url: null, inbox: `${id}/inbox`, sharedInbox: null },
          `${id}/f`,
          'accepted',
        );
      }
      const news = await publish(hub, { title: 'Annonce à tous', body: 'Quarante destinataires.' });
      // One host, at most four at a time, 150 ms each: the stop comes in the middle.
      await waitFor(() => receiver.received.length >= 5, { what: 'first deliveries' });
      await hub.stop();
      const beforeRestart = receiver.received.length;
      expect(beforeRestart).toBeLessThan(total);
      restarted = await startInstance(hub.config, { logger: pino({ level: 'silent' }) });
      await waitFor(() => receiver.received.length >= total, { what: 'all deliveries after the restart', timeoutMs: 60_000 }).catch(
        async (error) => {
          const jobs = await jobsOf(restarted!.ctx, DELIVER_QUEUE);
          throw new Error(`${error.message}; received ${receiver.received.length}; job states ${JSON.stringify(jobs.map((j) => j.state))}`);
        },
      );
      await new Promise((r) => setTimeout(r, 500)); // any duplicate would arrive now
      const perInbox = new Map<string, number>();
      for (const r of receiver.received) {
        expect(r.body.object.id).toBe(news.apId);
        perInbox.set(r.path, (perInbox.get(r.path) ?? 0) + 1);
      }
      expect(perInbox.size).toBe(total);
      expect([...perInbox.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await restarted?.stop();
      await hub.destroy();
      await receiver.close();
    }
  }, 180_000);
});
