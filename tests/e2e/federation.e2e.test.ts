// Federation between real instances on 127.0.0.1: two regional networks and a national one that
// relays (FEDERATION_RELAY). Each step waits (polling) for the other side, never sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginSession } from '../helpers/accounts.ts';
import { edit, follow, type Network, publish, remove, startNetwork, storedAnnouncement, waitFor } from '../helpers/federation.ts';

describe('federation between instances', () => {
  let aura: Network;
  let idf: Network;
  let national: Network;

  beforeAll(async () => {
    // One after the other: on a busy machine, three starts at once can exceed Fastify's plugin timeout.
    aura = await startNetwork('aura');
    idf = await startNetwork('idf');
    national = await startNetwork('miramap', { FEDERATION_RELAY: 'true' });
  }, 240_000);

  afterAll(async () => {
    await Promise.all([aura?.destroy(), idf?.destroy(), national?.destroy()]);
  });

  it('serves WebFinger, the actor with its keys, and NodeInfo', async () => {
    const wf = await fetch(`${aura.url}/.well-known/webfinger?resource=acct:${aura.address}`);
    expect(wf.status).toBe(200);
    const jrd = (await wf.json()) as { links: Array<{ rel: string; href: string; type?: string }> };
    const self = jrd.links.find((l) => l.rel === 'self');
    expect(self?.href).toBe(`${aura.url}/ap/actors/aura`);
    const actor = (await (await fetch(self!.href, { headers: { accept: 'application/activity+json' } })).json()) as Record<string, any>;
    expect(actor.type).toBe('Organization');
    expect(actor.name).toBe('Réseau aura');
    expect(actor.inbox).toBe(`${aura.url}/ap/actors/aura/inbox`);
    expect(actor.endpoints.sharedInbox).toBe(`${aura.url}/inbox`);
    expect(actor.publicKey.id).toBe(`${aura.url}/ap/actors/aura#main-key`);
    expect(actor.publicKey.publicKeyPem).toContain('BEGIN PUBLIC KEY');
    expect(actor.assertionMethod.length).toBe(2);
    expect(actor.summary).toContain('AMAP');
    expect(actor.url).toBe(`${aura.url}/`);
    expect(actor.icon).toMatchObject({ type: 'Image', mediaType: 'image/png' });
    const icon = await fetch(actor.icon.url);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/png');
    for (const collection of ['outbox', 'followers', 'following']) {
      const c = await fetch(actor[collection], { headers: { accept: 'application/activity+json' } });
      expect(c.status, collection).toBe(200);
      expect(((await c.json()) as { type: string }).type).toMatch(/Collection/);
    }
    const wellKnown = (await (await fetch(`${aura.url}/.well-known/nodeinfo`)).json()) as { links: Array<{ href: string }> };
    expect(wellKnown.links.map((l) => l.href)).toEqual([`${aura.url}/nodeinfo/2.0`, `${aura.url}/nodeinfo/2.1`]);
    for (const version of ['2.0', '2.1']) {
      const info = (await (await fetch(`${aura.url}/nodeinfo/${version}`)).json()) as Record<string, any>;
      expect(info.version).toBe(version);
      expect(info.software.name).toBe('amap-hub');
    }
    // A browser asking for the actor gets a page, not JSON.
    const browser = await fetch(self!.href, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(browser.status).toBe(303);
  });

  it('follows by handle; the other side accepts automatically', async () => {
    await follow(idf, aura);
    await follow(national, aura);
    await follow(national, idf);
    await follow(aura, national);
    await follow(idf, national);
    const followers = await aura.api<{ items: Array<{ handle: string; status: string }> }>('GET', '/api/v1/followers');
    expect(followers.body.items.map((f) => f.handle).sort()).toEqual([idf.address, national.address].sort());
    expect(followers.body.items.every((f) => f.status === 'accepted')).toBe(true);
  });

  it('refuses to follow a network that does not exist, or an unreachable one, storing nothing', async () => {
    const missing = await aura.api('POST', '/api/v1/follows', { target: `nobody@${new URL(idf.url).host}` });
    expect(missing.status).toBe(404);
    const unreachable = await aura.api('POST', '/api/v1/follows', { target: 'reseau@127.0.0.1:1' });
    expect(unreachable.status).toBe(502);
    const bad = await aura.api('POST', '/api/v1/follows', { target: 'not a handle' });
    expect(bad.status).toBe(400);
    const list = await aura.api<{ items: unknown[] }>('GET', '/api/v1/follows');
    expect(list.body.items).toHaveLength(1);
  });

  let published: { id: string; apId: string };

  it('publishes an Article that followers store, and the national instance relays it', async () => {
    published = await publish(aura, {
      title: 'Fête des AMAP en Auvergne',
      summary: 'Rendez-vous le 12 juin à Clermont.',
      body: 'Venez **nombreux** !',
      tags: ['fete', 'auvergne'],
    });
    // The Article at its page URL, for ActivityPub clients.
    const article = (await (await fetch(published.apId, { headers: { accept: 'application/activity+json' } })).json()) as Record<
      string,
      any
    >;
    expect(article.type).toBe('Article');
    expect(article.name).toBe('Fête des AMAP en Auvergne');
    expect(article.attributedTo).toBe(`${aura.url}/ap/actors/aura`);

    const onIdf = await waitFor(() => storedAnnouncement(idf, published.apId), { what: 'idf stores it' });
    expect(onIdf.title).toBe('Fête des AMAP en Auvergne');
    expect(onIdf.origin).toBe('remote');
    expect(onIdf.actor_id).toBe(`${aura.url}/ap/actors/aura`);
    expect(onIdf.network_handle).toBe(aura.address);
    expect(onIdf.tags).toEqual(['fete', 'auvergne']);
    expect(onIdf.content_html).toContain('<strong>nombreux</strong>');
    await waitFor(() => storedAnnouncement(national, published.apId), { what: 'national stores it' });
  });

  it('relays: a network that follows only the national one receives the regional news', async () => {
    const relayed = await startNetwork('bretagne');
    try {
      await follow(relayed, national);
      const news = await publish(idf, { title: 'Nouvelle AMAP à Paris 11e', body: 'Ouverture en septembre.' });
      const got = await waitFor(() => storedAnnouncement(relayed, news.apId), { what: 'relayed news on bretagne' });
      // Stored with its original author, not the relay.
      expect(got.actor_id).toBe(`${idf.url}/ap/actors/idf`);
      expect(got.network_handle).toBe(idf.address);
      // Its author deletes it: the national instance withdraws what it relayed (Undo Announce), and
      // bretagne drops its copy once idf's own server confirms the article is gone.
      await remove(idf, news.id);
      await waitFor(async () => (await storedAnnouncement(relayed, news.apId))?.deleted_at, { what: 'relayed copy withdrawn' });
    } finally {
      await relayed.destroy();
    }
  }, 120_000);

  it('sends edits as Update and deletions as Delete; the object answers 410 afterwards', async () => {
    await edit(aura, published.id, { title: 'Fête des AMAP en Auvergne (reportée)' });
    await waitFor(async () => (await storedAnnouncement(idf, published.apId))?.title === 'Fête des AMAP en Auvergne (reportée)', {
      what: 'update on idf',
    });
    await remove(aura, published.id);
    await waitFor(async () => (await storedAnnouncement(idf, published.apId))?.deleted_at, { what: 'delete on idf' });
    await waitFor(async () => (await storedAnnouncement(national, published.apId))?.deleted_at, { what: 'delete on national' });
    const gone = await fetch(published.apId, { headers: { accept: 'application/activity+json' } });
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { type: string }).type).toBe('Tombstone');
  });

  it('unfollows with Undo: the other side forgets the follower', async () => {
    const follows = await idf.api<{ items: Array<{ id: string; handle: string }> }>('GET', '/api/v1/follows');
    const toAura = follows.body.items.find((f) => f.handle === aura.address)!;
    expect((await idf.api('DELETE', `/api/v1/follows/${toAura.id}`)).status).toBe(204);
    await waitFor(
      async () => {
        const list = await aura.api<{ items: Array<{ handle: string }> }>('GET', '/api/v1/followers');
        return !list.body.items.some((f) => f.handle === idf.address);
      },
      { what: 'aura forgets idf' },
    );
  });

  it('refuses activities from a blocked instance (403) and delivers nothing to it', async () => {
    const blocked = await national.api('POST', '/api/v1/blocks', { value: new URL(aura.url).host });
    expect(blocked.status).toBe(201);
    const news = await publish(aura, { title: 'Message d’une instance bloquée', body: 'Rien.' });
    // idf (still following national only) is unaffected; national refuses aura's delivery.
    await waitFor(
      async () => {
        const dead = await aura.ctx.db.selectFrom('federation_delivery_hosts').selectAll().execute();
        return dead.some((h) => h.host === new URL(national.url).host && h.failures > 0);
      },
      { what: 'national refused aura' },
    );
    expect(await storedAnnouncement(national, news.apId)).toBeUndefined();
    await national.api('DELETE', `/api/v1/blocks/${(blocked.body as { id: string }).id}`);
  });

  it('has an admin page to follow networks and manage the blocklist, with CSRF-protected forms', async () => {
    const session = await loginSession(idf.url, idf.admin.email, idf.admin.password);
    const page = await fetch(`${idf.url}/admin/federation`, { headers: { cookie: session.cookie } });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('<html lang="fr"');
    expect(text).toContain(idf.address);
    expect(text).toContain(national.address);
    expect(text).toContain('<label for="f-target">');
    const post = (path: string, fields: Record<string, string>) =>
      fetch(`${idf.url}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
    expect((await post('/admin/federation/blocks', { value: 'spam.example' })).status).toBe(403); // no CSRF token
    const blocked = await post('/admin/federation/blocks', { value: 'spam.example', _csrf: session.csrf });
    expect(blocked.status).toBe(303);
    const after = await (await fetch(`${idf.url}/admin/federation`, { headers: { cookie: session.cookie } })).text();
    expect(after).toContain('spam.example');
    const unknown = await post('/admin/federation/follow', { target: `personne@${new URL(aura.url).host}`, _csrf: session.csrf });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('role="alert"');
  });
});
