// Announcements through real HTTP on a real instance: the REST API (auth, validation, CRUD), the
// domain events, announcements received from other networks, the public pages, the feeds and the
// editors' pages (with a signed-in browser session and its CSRF token).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteRemoteAnnouncement, upsertRemoteAnnouncement } from '../../server/announcements/remote-announcements.service.ts';
import { AppError } from '../../server/core/errors.ts';
import { createUserWithToken, loginSession } from '../helpers/accounts.ts';
import { usingPostgres } from '../helpers/database.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';

let instance: TestInstance;
let token: string;
let email: string;
let password: string;
const events: Array<{ name: string; payload: Record<string, string> }> = [];

beforeAll(async () => {
  instance = await startTestInstance();
  const created = await createUserWithToken(instance.ctx, 'editor');
  token = created.token;
  email = created.user.email;
  password = created.password;
  for (const name of ['announcement.published', 'announcement.updated', 'announcement.deleted', 'announcement.received'] as const) {
    instance.ctx.events.on(name, async (payload) => {
      events.push({ name, payload: payload as Record<string, string> });
    });
  }
});

afterAll(async () => {
  await instance?.destroy();
});

function api(path: string, init: { method?: string; body?: unknown; auth?: boolean } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.auth !== false) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${instance.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
}

function takeEvents(): string[] {
  return events.splice(0).map((e) => e.name);
}

const remoteInput = (over: Record<string, unknown> = {}) => ({
  apId: 'https://aura.example/announcements/1',
  url: 'https://aura.example/announcements/1',
  actorId: 'https://aura.example/actor',
  networkName: 'AMAP Auvergne-Rhône-Alpes',
  networkHandle: 'aura@aura.example',
  title: 'Nouvelles de la région',
  summary: '<p>Un résumé <b>en HTML</b></p>',
  contentHtml: '<p>Bonjour<script>alert(1)</script><img src="https://aura.example/i.png" alt="un panier" onerror="x()"></p>',
  tags: ['#Région', 'pas valide!', 'AMAP'],
  publishedAt: new Date('2026-11-20T10:00:00Z'),
  ...over,
});

/** A minimal XML well-formedness check: balanced tags, only the five predefined entities. */
function checkXml(xml: string): string[] {
  const stack: string[] = [];
  let i = xml.indexOf('?>') + 2;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    for (let amp = text.indexOf('&'); amp !== -1; amp = text.indexOf('&', amp + 1)) {
      const entity = text.slice(amp, text.indexOf(';', amp) + 1);
      if (!['&amp;', '&lt;', '&gt;', '&quot;', '&apos;'].includes(entity)) throw new Error(`bad entity near ${text.slice(amp, amp + 10)}`);
    }
    if (lt === -1) break;
    const gt = xml.indexOf('>', lt);
    const tag = xml.slice(lt + 1, gt);
    if (tag.includes('<')) throw new Error(`unescaped < in ${tag}`);
    const name = tag.replace(/^\//, '').split(/[\s/]/)[0]!;
    if (tag.startsWith('/')) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`);
    } else if (!tag.endsWith('/')) stack.push(name);
    i = gt + 1;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return [];
}

describe(`announcements (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('refuses writes without a token (401) and bad input (400, with the problems named)', async () => {
    expect((await api('/api/v1/announcements', { method: 'POST', body: { title: 't', body: 'b' }, auth: false })).status).toBe(401);
    const missing = await api('/api/v1/announcements', { method: 'POST', body: { body: 'b' } });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.message).toMatch(/title/);
    expect((await api('/api/v1/announcements', { method: 'POST', body: { title: 't', body: 'b', color: 'red' } })).status).toBe(400);
    const noAlt = await api('/api/v1/announcements', {
      method: 'POST',
      body: { title: 't', body: 'b', imageUrl: 'https://example.org/a.png' },
    });
    expect(noAlt.status).toBe(400);
    const error = (await noAlt.json()).error;
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual([expect.objectContaining({ field: 'imageAlt', code: 'imageAltRequired' })]);
    const badTag = await api('/api/v1/announcements', { method: 'POST', body: { title: 't', body: 'b', tags: ['ok', 'pas.ok'] } });
    expect(badTag.status).toBe(400);
    expect((await api('/api/v1/announcements?status=draft', { auth: false })).status).toBe(401);
    expect((await api('/api/v1/announcements/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await api('/api/v1/announcements/not-a-uuid')).status).toBe(404);
    expect(takeEvents()).toEqual([]);
  });

  it('creates a draft (no event), publishes it (one event), edits it (updated), deletes it (deleted, then 410)', async () => {
    const created = await api('/api/v1/announcements', {
      method: 'POST',
      body: { title: 'Assemblée générale', body: 'Rendez-vous **samedi** <script>alert(1)</script>', tags: ['#AG', 'Réseau'] },
    });
    expect(created.status).toBe(201);
    const draft = await created.json();
    expect(draft).toMatchObject({
      status: 'draft',
      origin: 'local',
      publishedAt: null,
      tags: ['ag', 'réseau'],
      summary: 'Rendez-vous samedi',
    });
    expect(draft.contentHtml).not.toContain('script');
    expect(draft.apId).toBe(`${instance.config.publicUrl}/announcements/${draft.id}`);
    expect(draft.url).toBe(draft.apId);
    expect(takeEvents()).toEqual([]);
    // A draft is not public.
    expect((await api(`/api/v1/announcements/${draft.id}`, { auth: false })).status).toBe(404);
    expect((await fetch(`${instance.url}/announcements/${draft.id}`)).status).toBe(404);
    expect((await api(`/api/v1/announcements/${draft.id}`)).status).toBe(200);

    const edited = await api(`/api/v1/announcements/${draft.id}`, { method: 'PATCH', body: { body: 'Rendez-vous dimanche' } });
    expect((await edited.json()).summary).toBe('Rendez-vous dimanche');
    expect(takeEvents()).toEqual([]);

    const published = await (await api(`/api/v1/announcements/${draft.id}`, { method: 'PATCH', body: { status: 'published' } })).json();
    expect(published.status).toBe('published');
    expect(published.publishedAt).not.toBeNull();
    expect(events.map((e) => [e.name, e.payload.id])).toEqual([['announcement.published', draft.id]]);
    takeEvents();
    expect((await api(`/api/v1/announcements/${draft.id}`, { auth: false })).status).toBe(200);

    const updated = await (await api(`/api/v1/announcements/${draft.id}`, { method: 'PATCH', body: { title: 'AG 2026' } })).json();
    expect(updated.title).toBe('AG 2026');
    expect(updated.publishedAt).toBe(published.publishedAt);
    expect(takeEvents()).toEqual(['announcement.updated']);

    const unpublish = await api(`/api/v1/announcements/${draft.id}`, { method: 'PATCH', body: { status: 'draft' } });
    expect(unpublish.status).toBe(400);
    expect(takeEvents()).toEqual([]);

    expect((await api(`/api/v1/announcements/${draft.id}`, { method: 'DELETE', auth: false })).status).toBe(401);
    expect((await api(`/api/v1/announcements/${draft.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(events).toEqual([{ name: 'announcement.deleted', payload: { id: draft.id, apId: draft.apId } }]);
    takeEvents();
    expect((await api(`/api/v1/announcements/${draft.id}`, { auth: false })).status).toBe(410);
    const page = await fetch(`${instance.url}/announcements/${draft.id}`);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('Annonce supprimée');
    expect((await api(`/api/v1/announcements/${draft.id}`, { method: 'PATCH', body: { title: 'x' } })).status).toBe(410);
  });

  it('publishes at once when created as published; deleting a draft publishes nothing', async () => {
    const res = await api('/api/v1/announcements', { method: 'POST', body: { title: 'Direct', body: 'Texte', status: 'published' } });
    const row = await res.json();
    expect(events.map((e) => [e.name, e.payload.id])).toEqual([['announcement.published', row.id]]);
    takeEvents();
    const draft = await (await api('/api/v1/announcements', { method: 'POST', body: { title: 'Brouillon', body: 'x' } })).json();
    expect((await api(`/api/v1/announcements/${draft.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(takeEvents()).toEqual([]);
  });

  it('lists drafts to editors only, pages the list, and documents the API in OpenAPI', async () => {
    const draft = await (await api('/api/v1/announcements', { method: 'POST', body: { title: 'Brouillon listé', body: 'x' } })).json();
    const drafts = await (await api('/api/v1/announcements?status=draft')).json();
    expect(drafts.items.map((i: { id: string }) => i.id)).toContain(draft.id);
    expect(drafts.items.every((i: { status: string }) => i.status === 'draft')).toBe(true);
    const published = await (await api('/api/v1/announcements', { auth: false })).json();
    expect(published.items.map((i: { id: string }) => i.id)).not.toContain(draft.id);
    const firstPage = await (await api('/api/v1/announcements?status=all&limit=1')).json();
    expect(firstPage).toMatchObject({ page: 1, limit: 1, hasMore: true });
    expect(firstPage.items).toHaveLength(1);
    const second = await (await api('/api/v1/announcements?status=all&limit=1&page=2')).json();
    expect(second.items[0].id).not.toBe(firstPage.items[0].id);
    expect((await api('/api/v1/announcements?limit=1000')).status).toBe(400);
    const spec = await (await fetch(`${instance.url}/api/openapi.json`)).json();
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/v1/announcements', '/api/v1/announcements/{id}']));
    expect(spec.paths['/api/v1/announcements'].post.tags).toEqual(['announcements']);
    expect(spec.paths['/api/v1/announcements'].post.security).toEqual([{ bearer: [] }]);
    takeEvents();
  });

  it('stores remote announcements sanitized, refuses another actor, ignores older updates, and deletes as a tombstone', async () => {
    const db = instance.ctx.db;
    const first = await db.transaction().execute((trx) => upsertRemoteAnnouncement(trx, remoteInput(), instance.ctx.events));
    expect(first.created).toBe(true);
    expect(events).toEqual([{ name: 'announcement.received', payload: { id: first.id } }]);
    takeEvents();
    const stored = await (await api(`/api/v1/announcements/${first.id}`, { auth: false })).json();
    expect(stored).toMatchObject({
      origin: 'remote',
      status: 'published',
      summary: 'Un résumé en HTML',
      tags: ['région', 'amap'],
      network: { name: 'AMAP Auvergne-Rhône-Alpes', handle: 'aura@aura.example', actorId: 'https://aura.example/actor' },
    });
    expect(stored.contentHtml).not.toMatch(/script|onerror|<img/);

    // Another actor may neither change nor delete it; nothing changes.
    const hijack = db
      .transaction()
      .execute((trx) => upsertRemoteAnnouncement(trx, remoteInput({ actorId: 'https://evil.example/actor', title: 'Pirate' })));
    await expect(hijack).rejects.toThrow(AppError);
    await expect(hijack).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      db.transaction().execute((trx) => deleteRemoteAnnouncement(trx, remoteInput().apId, 'https://evil.example/actor')),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect((await (await api(`/api/v1/announcements/${first.id}`)).json()).title).toBe('Nouvelles de la région');

    // A newer update applies; an older one (arriving late) is ignored; no second "received".
    const newer = remoteInput({ title: 'Version 2', updatedAt: new Date('2026-11-22T10:00:00Z') });
    expect(await db.transaction().execute((trx) => upsertRemoteAnnouncement(trx, newer, instance.ctx.events))).toEqual({
      id: first.id,
      created: false,
    });
    const older = remoteInput({ title: 'Version 1bis', updatedAt: new Date('2026-11-21T10:00:00Z') });
    await db.transaction().execute((trx) => upsertRemoteAnnouncement(trx, older, instance.ctx.events));
    expect((await (await api(`/api/v1/announcements/${first.id}`)).json()).title).toBe('Version 2');
    expect(takeEvents()).toEqual([]);

    // Remote announcements are not edited or deleted through the API.
    expect((await api(`/api/v1/announcements/${first.id}`, { method: 'PATCH', body: { title: 'x' } })).status).toBe(403);
    expect((await api(`/api/v1/announcements/${first.id}`, { method: 'DELETE' })).status).toBe(403);

    // A remote announcement's page names its network and links to the original.
    const page = await (await fetch(`${instance.url}/announcements/${first.id}`)).text();
    expect(page).toContain('Publiée par AMAP Auvergne-Rhône-Alpes');
    expect(page).toContain('href="https://aura.example/announcements/1"');
    expect(page).not.toContain('<img');

    // Filters of the list.
    const remoteOnly = await (await api('/api/v1/announcements?origin=remote', { auth: false })).json();
    expect(remoteOnly.items.map((i: { id: string }) => i.id)).toEqual([first.id]);
    const byNetwork = await (await api('/api/v1/announcements?network=aura@aura.example', { auth: false })).json();
    expect(byNetwork.items).toHaveLength(1);
    const local = await (await api('/api/v1/announcements?origin=local', { auth: false })).json();
    expect(local.items.every((i: { origin: string }) => i.origin === 'local')).toBe(true);
    expect((await (await api('/api/v1/announcements?tag=%23AMAP', { auth: false })).json()).items).toHaveLength(1);

    expect(await db.transaction().execute((trx) => deleteRemoteAnnouncement(trx, remoteInput().apId, remoteInput().actorId))).toBe(true);
    expect(await db.transaction().execute((trx) => deleteRemoteAnnouncement(trx, remoteInput().apId, remoteInput().actorId))).toBe(false);
    expect((await api(`/api/v1/announcements/${first.id}`, { auth: false })).status).toBe(410);
    expect((await fetch(`${instance.url}/announcements/${first.id}`)).status).toBe(410);
  });

  it('serves pages with Open Graph tags, the network feed with its filter, the home block, and well-formed feeds', async () => {
    // The editor's image is on another site (here 127.0.0.1): it is copied to the instance.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    const site = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    const copy = `${instance.url}/media/${crypto.createHash('sha256').update(png).digest('hex')}.png`;
    const local = await (
      await api('/api/v1/announcements', {
        method: 'POST',
        body: {
          title: 'Fête des paniers & <légumes>',
          summary: 'Une fête "pour tous"',
          body: 'Texte',
          imageUrl: `${siteUrl}/panier.png`,
          imageAlt: 'Un panier',
          status: 'published',
        },
      })
    ).json();
    await new Promise((resolve) => site.close(resolve));
    const remote = await instance.ctx.db.transaction().execute((trx) =>
      upsertRemoteAnnouncement(
        trx,
        remoteInput({
          apId: 'https://bzh.example/a/2',
          url: 'https://bzh.example/a/2',
          actorId: 'https://bzh.example/actor',
          networkName: 'AMAP Bretagne',
          networkHandle: 'bzh@bzh.example',
        }),
      ),
    );
    takeEvents();

    const page = await (await fetch(`${instance.url}/announcements/${local.id}`)).text();
    expect(page).toContain('<meta property="og:title" content="Fête des paniers &amp; &lt;légumes&gt;">');
    expect(page).toContain('<meta property="og:description" content="Une fête &quot;pour tous&quot;">');
    expect(page).toContain(`<meta property="og:url" content="${local.apId}">`);
    expect(page).toContain('<meta property="og:type" content="article">');
    expect(page).toContain(`<meta property="og:image" content="${copy}">`);
    expect(page).toContain(`<img src="${copy}" alt="Un panier">`);
    expect(page).toContain('<link rel="alternate" type="application/rss+xml"');

    const feed = await (await fetch(`${instance.url}/announcements`)).text();
    expect(feed).toContain(local.title.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;'));
    expect(feed).toContain('AMAP Bretagne');
    expect(feed).toContain('href="/announcements?network=bzh%40bzh.example"');
    const filtered = await (await fetch(`${instance.url}/announcements?network=bzh%40bzh.example`)).text();
    expect(filtered).toContain(`/announcements/${remote.id}`);
    expect(filtered).not.toContain(`/announcements/${local.id}`);

    const home = await (await fetch(`${instance.url}/`)).text();
    expect(home).toContain(`/announcements/${local.id}`);
    expect(home).toContain(`/announcements/${remote.id}`);
    expect(home).toContain('/static/live.js');

    const rss = await fetch(`${instance.url}/feed.rss`);
    expect(rss.headers.get('content-type')).toMatch(/application\/rss\+xml/);
    const rssText = await rss.text();
    expect(checkXml(rssText)).toEqual([]);
    expect(rssText).toContain(`<guid isPermaLink="true">${local.apId}</guid>`);
    expect(rssText).not.toContain('bzh.example');
    const networkRss = await (await fetch(`${instance.url}/network/feed.rss`)).text();
    expect(checkXml(networkRss)).toEqual([]);
    expect(networkRss).toContain('https://bzh.example/a/2');
    expect(networkRss.split('<item>').length - 1).toBeGreaterThanOrEqual(2);
    for (const path of ['/feed.atom', '/network/feed.atom']) {
      const atom = await fetch(`${instance.url}${path}`);
      expect(atom.headers.get('content-type')).toMatch(/application\/atom\+xml/);
      const text = await atom.text();
      expect(checkXml(text)).toEqual([]);
      expect(text).toContain('<title type="text">Fête des paniers &amp; &lt;légumes&gt;</title>');
    }
    expect((await (await fetch(`${instance.url}/network/feed.atom`)).text()).split('<entry>').length - 1).toBeGreaterThanOrEqual(2);
  });

  it('lets a signed-in editor write, preview and delete through the admin pages (with CSRF)', async () => {
    const session = await loginSession(instance.url, email, password);
    const headers = { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' };
    const list = await fetch(`${instance.url}/admin/announcements`, { headers: { cookie: session.cookie } });
    expect(list.status).toBe(200);
    expect(
      await fetch(`${instance.url}/admin/announcements`, { redirect: 'manual', headers: { accept: 'text/html' } }).then((r) => r.status),
    ).toBe(303);

    const form = {
      _csrf: session.csrf,
      title: 'Par le formulaire',
      summary: '',
      body: 'Un **texte** <script>x()</script>',
      imageUrl: '',
      imageAlt: '',
      tags: 'amap, bio',
    };
    const preview = await fetch(`${instance.url}/admin/announcements`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ ...form, action: 'preview' }).toString(),
    });
    expect(preview.status).toBe(200);
    const previewHtml = await preview.text();
    expect(previewHtml).toContain('Un <strong>texte</strong>');
    expect(previewHtml).not.toContain('<script>x()');
    expect(previewHtml).toContain('value="Par le formulaire"');

    const invalid = await fetch(`${instance.url}/admin/announcements`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ ...form, title: '', action: 'publish' }).toString(),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain('Le titre est obligatoire.');

    const noCsrf = await fetch(`${instance.url}/admin/announcements`, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ ...form, _csrf: 'wrong', action: 'publish' }).toString(),
    });
    expect(noCsrf.status).toBe(403);

    const saved = await fetch(`${instance.url}/admin/announcements`, {
      method: 'POST',
      redirect: 'manual',
      headers,
      body: new URLSearchParams({ ...form, action: 'publish' }).toString(),
    });
    expect(saved.status).toBe(303);
    expect(takeEvents()).toEqual(['announcement.published']);
    const mine = (await (await api('/api/v1/announcements?origin=local', { auth: false })).json()).items.find(
      (i: { title: string }) => i.title === 'Par le formulaire',
    );
    expect(mine.tags).toEqual(['amap', 'bio']);

    const livePreview = await fetch(`${instance.url}/admin/announcements/preview`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/json', 'x-csrf-token': session.csrf },
      body: JSON.stringify({ body: '*vite* <img src=x onerror=alert(1)>' }),
    });
    expect(livePreview.status).toBe(200);
    const { html } = await livePreview.json();
    expect(html).toContain('<em>vite</em>');
    expect(html).not.toMatch(/onerror|<img/);

    const edit = await fetch(`${instance.url}/admin/announcements/${mine.id}/edit`, { headers: { cookie: session.cookie } });
    expect(await edit.text()).toContain('Enregistrer les modifications');
    const confirm = await fetch(`${instance.url}/admin/announcements/${mine.id}/delete`, { headers: { cookie: session.cookie } });
    expect(await confirm.text()).toContain('Oui, supprimer');
    const deleted = await fetch(`${instance.url}/admin/announcements/${mine.id}/delete`, {
      method: 'POST',
      redirect: 'manual',
      headers,
      body: new URLSearchParams({ _csrf: session.csrf }).toString(),
    });
    expect(deleted.status).toBe(303);
    expect(takeEvents()).toEqual(['announcement.deleted']);
    expect((await fetch(`${instance.url}/announcements/${mine.id}`)).status).toBe(410);
  });
  it('puts "Annonces" in the header of every page, marked current on the announcements pages', async () => {
    const home = await (await fetch(`${instance.url}/`)).text();
    expect(home).toMatch(/<nav aria-label="Navigation principale">[\s\S]*<a href="\/announcements">Annonces<\/a>/);
    const feed = await (await fetch(`${instance.url}/announcements`, { headers: { cookie: 'lang=en' } })).text();
    expect(feed).toContain('<a href="/announcements" aria-current="page">Announcements</a>');
  });

  it('answers 404 (never a database error) for ids that are not uuids, on every announcement route', async () => {
    const session = await loginSession(instance.url, email, password);
    const form = { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' };
    const body = new URLSearchParams({ _csrf: session.csrf, title: 't', body: 'b', action: 'draft' }).toString();
    for (const id of ['not-a-uuid', '------------------------------------', `urn:uuid:${crypto.randomUUID()}`, "1' or '1'='1"]) {
      const path = encodeURIComponent(id);
      const answers = [
        await api(`/api/v1/announcements/${path}`),
        await api(`/api/v1/announcements/${path}`, { method: 'PATCH', body: { title: 'x' } }),
        await api(`/api/v1/announcements/${path}`, { method: 'DELETE' }),
        await fetch(`${instance.url}/announcements/${path}`),
        await fetch(`${instance.url}/admin/announcements/${path}/edit`, { headers: { cookie: session.cookie } }),
        await fetch(`${instance.url}/admin/announcements/${path}/delete`, { headers: { cookie: session.cookie } }),
        await fetch(`${instance.url}/admin/announcements/${path}`, { method: 'POST', headers: form, body }),
        await fetch(`${instance.url}/admin/announcements/${path}/delete`, { method: 'POST', headers: form, body }),
      ];
      expect(
        answers.map((r) => r.status),
        id,
      ).toEqual(answers.map(() => 404));
    }
  });
});
