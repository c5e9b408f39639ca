import { Document } from '@fedify/vocab';
import { preloadedContexts } from '@fedify/vocab-runtime';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../server/core/errors.ts';
import { remoteResourceInput } from '../../server/resources/resources.inbox.ts';
import { deleteRemoteResource, upsertRemoteResource } from '../../server/resources/resources.remote.ts';
import { type BrowserSession, createUserWithToken, loginSession } from '../helpers/accounts.ts';
import { createTestDatabase, usingPostgres } from '../helpers/database.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { makePdf } from '../helpers/resources-fixtures.ts';

let instance: TestInstance;
let session: BrowserSession;

beforeAll(async () => {
  instance = await startTestInstance();
  const { user, password } = await createUserWithToken(instance.ctx, 'editor');
  session = await loginSession(instance.url, user.email, password);
});
afterAll(async () => {
  await instance?.destroy();
});

function actionOf(page: string, pattern: RegExp): string {
  const match = pattern.exec(page);
  if (!match?.[1]) throw new Error(`no form matching ${pattern}`);
  return match[1].replaceAll('&amp;', '&');
}

describe(`resource admin pages and remote resources (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('adds, replaces a file, unpublishes and deletes through the forms', async () => {
    const newPage = await (await fetch(`${instance.url}/admin/resources/new`, { headers: { cookie: session.cookie } })).text();
    expect(newPage).toContain('enctype="multipart/form-data"');
    expect(newPage).toContain('<label for="licence">');
    const action = actionOf(newPage, /action="(\/admin\/resources\?_csrf=[^"]+)"/);

    const form = new FormData();
    form.append('title', 'Guide du bénévole');
    form.append('licence', 'cc-by-4.0');
    form.append('tags', 'bénévolat');
    form.append('files', new Blob([new Uint8Array(makePdf('guide'))]), 'guide.pdf');
    const noToken = await fetch(`${instance.url}/admin/resources`, { method: 'POST', headers: { cookie: session.cookie }, body: form });
    expect(noToken.status).toBe(403);
    const created = await fetch(`${instance.url}${action}`, {
      method: 'POST',
      headers: { cookie: session.cookie },
      body: form,
      redirect: 'manual',
    });
    expect(created.status).toBe(303);
    const editUrl = created.headers.get('location')!;
    expect(editUrl).toMatch(/^\/admin\/resources\/[0-9a-f-]{36}$/);
    const id = editUrl.split('/').pop()!;

    const edit = await (await fetch(`${instance.url}${editUrl}`, { headers: { cookie: session.cookie } })).text();
    const replaceAction = actionOf(edit, /action="(\/admin\/resources\/[^"]+\/files\?_csrf=[^"]+)"/);
    const wrong = new FormData();
    wrong.append('file', new Blob([new Uint8Array(makePdf('v2'))]), 'guide.odt');
    const refused = await fetch(`${instance.url}${replaceAction}`, { method: 'POST', headers: { cookie: session.cookie }, body: wrong });
    expect(refused.status).toBe(415);
    expect(await refused.text()).toContain('ne correspond pas à son extension');
    const replacement = new FormData();
    replacement.append('replaces', /name="replaces" value="([^"]+)"/.exec(edit)![1]!);
    replacement.append('file', new Blob([new Uint8Array(makePdf('v2'))]), 'guide-2.pdf');
    const replaced = await fetch(`${instance.url}${replaceAction}`, {
      method: 'POST',
      headers: { cookie: session.cookie },
      body: replacement,
      redirect: 'manual',
    });
    expect(replaced.status).toBe(303);
    const publicPage = await (await fetch(`${instance.url}/resources/${id}`)).text();
    expect(publicPage).toContain('guide-2.pdf');
    expect(publicPage).toContain('Versions précédentes');

    const update = await fetch(`${instance.url}/admin/resources/${id}`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: session.csrf, title: 'Guide des bénévoles', licence: 'inconnue' }).toString(),
    });
    expect(update.status).toBe(400);
    expect(await update.text()).toContain('Choisissez une licence dans la liste.');

    const unpublish = await fetch(`${instance.url}/admin/resources/${id}/status`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: session.csrf, status: 'unpublished' }).toString(),
      redirect: 'manual',
    });
    expect(unpublish.status).toBe(303);
    expect((await fetch(`${instance.url}/resources/${id}`)).status).toBe(404);
    expect((await fetch(`${instance.url}/resources/${id}`, { headers: { cookie: session.cookie } })).status).toBe(200);

    const removed = await fetch(`${instance.url}/admin/resources/${id}/delete`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: session.csrf }).toString(),
      redirect: 'manual',
    });
    expect(removed.status).toBe(303);
    expect((await fetch(`${instance.url}/resources/${id}`, { headers: { cookie: session.cookie } })).status).toBe(404);
  });

  it('stores remote resources, only their actor may change them, private addresses are refused', async () => {
    const db = instance.ctx.db;
    const input = {
      apId: 'https://amap-aura.example/resources/1',
      actorId: 'https://amap-aura.example/actor',
      networkName: 'AMAP AURA',
      networkHandle: 'aura@amap-aura.example',
      url: 'https://amap-aura.example/resources/1',
      title: 'Contrats de légumes',
      contentHtml: '<p>Modèles <img src="https://tracker.example/x.png" alt="logo"> <script>alert(1)</script></p>',
      tags: ['Contrats'],
      licence: 'https://creativecommons.org/licenses/by-sa/4.0/',
      files: [{ url: 'https://amap-aura.example/files/contrat.pdf', name: 'contrat.pdf', mediaType: 'application/pdf', size: 1234 }],
    };
    const id = await db.transaction().execute((trx) => upsertRemoteResource(trx, input, { allowPrivate: false }));
    const api = await (await fetch(`${instance.url}/api/v1/resources/${id}`)).json();
    expect(api).toMatchObject({
      origin: 'remote',
      network: { name: 'AMAP AURA', handle: 'aura@amap-aura.example' },
      licence: { code: 'cc-by-sa-4.0' },
    });
    expect(api.descriptionHtml).not.toMatch(/<img|script/);
    expect(api.files[0]).toMatchObject({ url: 'https://amap-aura.example/files/contrat.pdf', size: 1234, kind: 'pdf' });
    const found = await (await fetch(`${instance.url}/api/v1/resources?q=contrat&network=aura@amap-aura.example`)).json();
    expect(found.items.map((i: { id: string }) => i.id)).toEqual([id]);
    const redirect = await fetch(`${instance.url}/resources/${id}/files/${api.files[0].id}`, { redirect: 'manual' });
    expect(redirect.headers.get('location')).toBe('https://amap-aura.example/files/contrat.pdf');

    const again = await db
      .transaction()
      .execute((trx) => upsertRemoteResource(trx, { ...input, title: 'Contrats (v2)' }, { allowPrivate: false }));
    expect(again).toBe(id);
    await expect(
      db
        .transaction()
        .execute((trx) => upsertRemoteResource(trx, { ...input, actorId: 'https://amap-aura.example/other' }, { allowPrivate: false })),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await expect(
      db
        .transaction()
        .execute((trx) => upsertRemoteResource(trx, { ...input, actorId: 'https://evil.example/actor' }, { allowPrivate: false })),
    ).rejects.toBeInstanceOf(AppError);
    for (const url of [
      'http://127.0.0.1/x.pdf',
      'http://10.0.0.5/x.pdf',
      'http://[::1]/x.pdf',
      'http://intranet.local/x.pdf',
      'file:///etc/passwd',
    ]) {
      await expect(
        db
          .transaction()
          .execute((trx) =>
            upsertRemoteResource(
              trx,
              { ...input, apId: 'https://amap-aura.example/resources/2', files: [{ url }] },
              { allowPrivate: false },
            ),
          ),
      ).rejects.toMatchObject({ code: 'bad_request' });
    }
    expect((await (await fetch(`${instance.url}/api/v1/resources?network=aura@amap-aura.example`)).json()).total).toBe(1);

    await expect(
      db.transaction().execute((trx) => deleteRemoteResource(trx, input.apId, 'https://amap-aura.example/other')),
    ).rejects.toMatchObject({
      code: 'forbidden',
    });
    expect(await db.transaction().execute((trx) => deleteRemoteResource(trx, input.apId, input.actorId))).toBe(true);
    expect((await fetch(`${instance.url}/api/v1/resources/${id}`)).status).toBe(404);
  });

  it('serves a local resource as an ActivityPub Document and queues Create/Update/Delete for followers', async () => {
    const { token } = await createUserWithToken(instance.ctx, 'editor');
    const form = new FormData();
    form.append('title', 'Charte des AMAP');
    form.append('description', 'La charte *commune*.');
    form.append('licence', 'cc-by-sa-4.0');
    form.append('tags', 'charte');
    form.append('files', new Blob([new Uint8Array(makePdf('charte'))]), 'charte.pdf');
    const created = await (
      await fetch(`${instance.url}/api/v1/resources`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })
    ).json();
    const ap = await fetch(`${instance.url}/resources/${created.id}`, { headers: { accept: 'application/activity+json' } });
    expect(ap.status).toBe(200);
    expect(ap.headers.get('content-type')).toContain('application/activity+json');
    const doc = await ap.json();
    expect(doc).toMatchObject({
      type: 'Document',
      id: created.apId,
      name: 'Charte des AMAP',
      license: 'https://creativecommons.org/licenses/by-sa/4.0/',
    });
    expect(doc.content).toContain('Licence : <a href="https://creativecommons.org/licenses/by-sa/4.0/" rel="license">CC BY-SA 4.0</a>');
    const attachment = Array.isArray(doc.attachment) ? doc.attachment[0] : doc.attachment;
    expect(attachment).toMatchObject({
      type: 'Document',
      mediaType: 'application/pdf',
      name: 'charte.pdf',
      url: `${instance.config.publicUrl}${created.files[0].url}`,
    });
    expect(JSON.stringify(doc['@context'])).toContain('schema:license');

    // What another instance's inbox does with it: the Document becomes a remote resource there.
    const other = await createTestDatabase();
    try {
      const parsed = await Document.fromJsonLd(doc, {
        contextLoader: async (url: string) => ({ contextUrl: null, documentUrl: url, document: preloadedContexts[url] }),
      });
      const input = await remoteResourceInput(parsed, {
        actorId: `${instance.config.publicUrl}/ap/actors/reseau`,
        networkName: 'Réseau test',
        networkHandle: 'reseau@127.0.0.1',
      });
      expect(input).toMatchObject({
        apId: created.apId,
        title: 'Charte des AMAP',
        licence: 'https://creativecommons.org/licenses/by-sa/4.0/',
        tags: ['charte'],
      });
      const remoteId = await other.db.transaction().execute((trx) => upsertRemoteResource(trx, input!, { allowPrivate: true }));
      const stored = await other.db.selectFrom('resources').selectAll().where('id', '=', remoteId).executeTakeFirstOrThrow();
      expect(stored).toMatchObject({ origin: 'remote', licence: 'cc-by-sa-4.0', title: 'Charte des AMAP', network_name: 'Réseau test' });
      const remoteFiles = await other.db.selectFrom('resource_files').selectAll().where('resource_id', '=', remoteId).execute();
      expect(remoteFiles).toMatchObject([
        { name: 'charte.pdf', kind: 'pdf', hash: null, remote_url: `${instance.config.publicUrl}${created.files[0].url}` },
      ]);
      await expect(
        other.db.transaction().execute((trx) => upsertRemoteResource(trx, input!, { allowPrivate: false })),
      ).rejects.toMatchObject({ code: 'bad_request' });
    } finally {
      await other.close();
    }

    await fetch(`${instance.url}/api/v1/resources/${created.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Charte des AMAP (2026)' }),
    });
    await fetch(`${instance.url}/api/v1/resources/${created.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    const jobs = await sql<{
      data: { activity: Record<string, any> };
    }>`select data from pgboss.job where name = 'federation.fanout' order by created_on`.execute(instance.ctx.db);
    const mine = jobs.rows.map((j) => j.data.activity).filter((a) => JSON.stringify(a).includes(created.apId));
    expect(mine.map((a) => a.type)).toEqual(['Create', 'Update', 'Delete']);
    expect(mine[0]!.object).toMatchObject({
      type: 'Document',
      name: 'Charte des AMAP',
      license: 'https://creativecommons.org/licenses/by-sa/4.0/',
    });
    expect(mine[1]!.object.name).toBe('Charte des AMAP (2026)');
  });
});
