import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepOrphanFiles } from '../../server/resources/resources.module.ts';
import { LocalFileStorage } from '../../server/storage/local-storage.ts';
import { createUserWithToken } from '../helpers/accounts.ts';
import { usingPostgres } from '../helpers/database.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { makeDocx, makeOdt, makePdf, makePng, makeZipBomb } from '../helpers/resources-fixtures.ts';

let instance: TestInstance;
let token: string;
const events: Array<{ name: string; payload: unknown }> = [];

beforeAll(async () => {
  instance = await startTestInstance();
  ({ token } = await createUserWithToken(instance.ctx, 'editor'));
  for (const name of ['resource.published', 'resource.updated', 'resource.deleted'] as const) {
    instance.ctx.events.on(name, async (payload) => {
      events.push({ name, payload });
    });
  }
});
afterAll(async () => {
  await instance?.destroy();
});

const auth = () => ({ authorization: `Bearer ${token}` });
const filesRoot = () => path.join(instance.config.dataDir, 'files');
function storedFiles(): string[] {
  if (!fs.existsSync(filesRoot())) return [];
  return (fs.readdirSync(filesRoot(), { recursive: true }) as string[]).filter((p) => fs.statSync(path.join(filesRoot(), p)).isFile());
}

function form(fields: Record<string, string>, files: Array<{ name: string; data: Buffer; type?: string }>): FormData {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  for (const f of files) body.append('files', new Blob([new Uint8Array(f.data)], { type: f.type ?? 'application/octet-stream' }), f.name);
  return body;
}

async function create(fields: Record<string, string>, files: Array<{ name: string; data: Buffer }>) {
  return fetch(`${instance.url}/api/v1/resources`, { method: 'POST', headers: auth(), body: form(fields, files) });
}

async function resourceCount(): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from resources`.execute(instance.ctx.db);
  return r.rows[0]!.n;
}

describe(`resources (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('uploads and downloads a file byte for byte, with safe headers', async () => {
    const pdf = makePdf('contrat AMAP');
    const odt = makeOdt();
    const response = await create(
      {
        title: 'Modèle de contrat AMAP',
        description: 'Un **modèle** de contrat. <script>alert(1)</script>',
        tags: 'contrats, Juridique',
        licence: 'cc-by-sa-4.0',
        audience: 'amaps',
      },
      [
        { name: '../../Contrat été.pdf', data: pdf },
        { name: 'contrat.odt', data: odt },
      ],
    );
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(body.title).toBe('Modèle de contrat AMAP');
    expect(body.descriptionHtml).toContain('<strong>modèle</strong>');
    expect(body.descriptionHtml).not.toContain('script');
    expect(body.tags).toEqual(['contrats', 'juridique']);
    expect(body.licence).toMatchObject({
      code: 'cc-by-sa-4.0',
      name: 'CC BY-SA 4.0',
      url: 'https://creativecommons.org/licenses/by-sa/4.0/',
    });
    expect(body.licence.credit.fr).toContain('Modèle de contrat AMAP');
    expect(body.apId).toBe(`${instance.config.publicUrl}/resources/${body.id}`);
    expect(body.formats).toEqual(['document']);
    expect(body.files).toHaveLength(2);
    const [pdfFile, odtFile] = body.files;
    expect(pdfFile).toMatchObject({
      name: 'Contrat été.pdf',
      kind: 'pdf',
      mediaType: 'application/pdf',
      size: pdf.length,
      version: 1,
      current: true,
    });
    expect(odtFile.kind).toBe('odt');
    expect(events).toContainEqual({ name: 'resource.published', payload: { id: body.id } });

    const download = await fetch(`${instance.url}${pdfFile.url}`);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename="Contrat ete.pdf"; filename*=UTF-8''Contrat%20%C3%A9t%C3%A9.pdf`,
    );
    expect(download.headers.get('x-content-type-options')).toBe('nosniff');
    expect(download.headers.get('content-security-policy')).toMatch(/^sandbox/);
    const odtDownload = await fetch(`${instance.url}${odtFile.url}`);
    expect(Buffer.from(await odtDownload.arrayBuffer()).equals(odt)).toBe(true);
    expect(odtDownload.headers.get('content-type')).toBe('application/vnd.oasis.opendocument.text');

    const again = await fetch(`${instance.url}/api/v1/resources/${body.id}`);
    expect((await again.json()).files).toHaveLength(2);
  });

  it('serves images inline and text as plain text attachments', async () => {
    const response = await create({ title: 'Affiche', licence: 'cc0-1.0' }, [
      { name: 'affiche.png', data: makePng() },
      { name: 'notes.txt', data: Buffer.from('Penser aux paniers\n') },
    ]);
    expect(response.status).toBe(201);
    const body = await response.json();
    const png = await fetch(`${instance.url}${body.files[0].url}`);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('content-disposition')).toMatch(/^inline;/);
    const txt = await fetch(`${instance.url}${body.files[1].url}`);
    expect(txt.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(txt.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(body.formats).toEqual(['image', 'text']);
  });

  it('refuses wrong content, markup, bombs and unknown licences, keeping nothing', async () => {
    const filesBefore = storedFiles().length;
    const countBefore = await resourceCount();
    const mismatch = await create({ title: 'Faux', licence: 'cc-by-4.0' }, [{ name: 'contrat.docx', data: makePdf() }]);
    expect(mismatch.status).toBe(415);
    expect((await mismatch.json()).error.message).toMatch(/PDF.*\.docx/);
    const svg = await create({ title: 'Logo', licence: 'cc-by-4.0' }, [
      { name: 'logo.svg', data: Buffer.from('<svg onload="alert(1)"/>') },
    ]);
    expect(svg.status).toBe(415);
    const html = await create({ title: 'Page', licence: 'cc-by-4.0' }, [
      { name: 'page.txt', data: Buffer.from('<html><script>alert(1)</script></html>') },
    ]);
    expect(html.status).toBe(415);
    const bomb = await create({ title: 'Bombe', licence: 'cc-by-4.0' }, [{ name: 'bombe.docx', data: makeZipBomb(30) }]);
    expect(bomb.status).toBe(415);
    expect((await bomb.json()).error.message).toMatch(/archive bomb/);
    // The first file is fine and stored while it streams; the licence is refused afterwards: it goes too.
    const licence = await create({ title: 'Licence inconnue', licence: 'wtfpl' }, [{ name: 'ok.docx', data: makeDocx('unique 1') }]);
    expect(licence.status).toBe(400);
    const error = (await licence.json()).error;
    expect(error.message).toContain('cc-by-4.0, cc-by-sa-4.0, cc-by-nc-sa-4.0, cc0-1.0, etalab-2.0, all-rights-reserved');
    expect(error.message).toContain('"wtfpl"');
    const nothing = await create({ title: 'Vide', licence: 'cc-by-4.0' }, []);
    expect(nothing.status).toBe(400);
    const badLink = await create({ title: 'Lien', licence: 'cc-by-4.0', link: 'javascript:alert(1)' }, []);
    expect(badLink.status).toBe(400);
    expect(storedFiles().length).toBe(filesBefore);
    expect(await resourceCount()).toBe(countBefore);
  });

  it('aborts an oversized upload while it streams: nothing on disk or in the database', async () => {
    await sql`insert into settings (key, value) values ('resources.max_file_bytes', '65536'::jsonb)`.execute(instance.ctx.db);
    try {
      const filesBefore = storedFiles().length;
      const countBefore = await resourceCount();
      const big = Buffer.concat([makePdf(), Buffer.alloc(3 * 1024 * 1024, 0x20)]);
      const response = await create({ title: 'Trop gros', licence: 'cc-by-4.0' }, [{ name: 'gros.pdf', data: big }]).catch((e: Error) => e);
      // The server may answer 413 before the client has finished sending, or close the connection.
      if (response instanceof Response) {
        expect(response.status).toBe(413);
        expect((await response.json()).error.code).toBe('payload_too_large');
      }
      // Fields come before files: an unknown licence is refused before the file streams in.
      const early = await create({ title: 'Licence inconnue', licence: 'wtfpl' }, [{ name: 'gros.pdf', data: big }]).catch((e: Error) => e);
      if (early instanceof Response) {
        expect(early.status).toBe(400);
        expect((await early.json()).error.message).toContain('Unknown licence "wtfpl"');
      }
      expect(storedFiles().length).toBe(filesBefore);
      expect(await resourceCount()).toBe(countBefore);
    } finally {
      await sql`delete from settings where key = 'resources.max_file_bytes'`.execute(instance.ctx.db);
    }
  });

  it('keeps versions when a file is replaced, edits, unpublishes and deletes', async () => {
    const created = await (await create({ title: 'Charte', licence: 'etalab-2.0' }, [{ name: 'charte.pdf', data: makePdf('v1') }])).json();
    const first = created.files[0];
    const replace = new FormData();
    replace.append('replaces', first.id);
    replace.append('file', new Blob([new Uint8Array(makePdf('v2'))]), 'charte-2026.pdf');
    const v2 = await fetch(`${instance.url}/api/v1/resources/${created.id}/files`, { method: 'POST', headers: auth(), body: replace });
    expect(v2.status).toBe(201);
    expect(await v2.json()).toMatchObject({ name: 'charte-2026.pdf', version: 2, slot: first.slot, current: true });
    const view = await (await fetch(`${instance.url}/api/v1/resources/${created.id}`)).json();
    expect(view.files.map((f: { version: number; current: boolean }) => [f.version, f.current])).toEqual([
      [2, true],
      [1, false],
    ]);
    const old = await fetch(`${instance.url}${first.url}`);
    expect(Buffer.from(await old.arrayBuffer()).equals(makePdf('v1'))).toBe(true);
    expect(events).toContainEqual({ name: 'resource.updated', payload: { id: created.id } });

    const patch = await fetch(`${instance.url}/api/v1/resources/${created.id}`, {
      method: 'PATCH',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Charte des AMAP', licence: 'nope' }),
    });
    expect(patch.status).toBe(400);
    const patched = await fetch(`${instance.url}/api/v1/resources/${created.id}`, {
      method: 'PATCH',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Charte des AMAP', tags: ['charte'] }),
    });
    expect((await patched.json()).title).toBe('Charte des AMAP');

    const anonymous = await fetch(`${instance.url}/api/v1/resources/${created.id}`, { method: 'DELETE' });
    expect(anonymous.status).toBe(401);
    const deleted = await fetch(`${instance.url}/api/v1/resources/${created.id}`, { method: 'DELETE', headers: auth() });
    expect(deleted.status).toBe(204);
    expect(events).toContainEqual({ name: 'resource.deleted', payload: { id: created.id, apId: created.apId } });
    expect((await fetch(`${instance.url}/api/v1/resources/${created.id}`)).status).toBe(404);
    expect((await fetch(`${instance.url}${first.url}`)).status).toBe(404);
  });

  it('searches in French: plurals, accents both ways, filters', async () => {
    await create(
      { title: 'Création d’une AMAP', description: 'Les étapes pour créer une association.', licence: 'cc-by-4.0', tags: 'démarrage' },
      [{ name: 'guide.pdf', data: makePdf('guide') }],
    );
    await create({ title: 'Calendrier des légumes', description: 'Saisons et récoltes.', licence: 'cc0-1.0', audience: 'farmers' }, [
      { name: 'cal.pdf', data: makePdf('cal') },
    ]);
    const search = async (query: string) => {
      const r = await fetch(`${instance.url}/api/v1/resources?${query}`);
      expect(r.status).toBe(200);
      return (await r.json()) as { items: Array<{ title: string }>; total: number };
    };
    const titles = async (query: string) => (await search(query)).items.map((i) => i.title);
    expect(await titles('q=contrats')).toContain('Modèle de contrat AMAP');
    expect(await titles('q=contrat')).toContain('Modèle de contrat AMAP');
    expect(await titles('q=creation')).toContain('Création d’une AMAP');
    expect(await titles('q=cr%C3%A9ations')).toContain('Création d’une AMAP');
    expect(await titles('q=legume')).toEqual(['Calendrier des légumes']);
    expect(await titles('q=demarrage')).toEqual(['Création d’une AMAP']);
    expect(await titles('q=%22calendrier+des+l%C3%A9gumes%22+-contrat')).toEqual(['Calendrier des légumes']);
    expect(await titles('q=%28%29%21%3A%26')).toEqual([]);
    expect(await titles('audience=farmers')).toEqual(['Calendrier des légumes']);
    expect(await titles('licence=cc0-1.0&format=image')).toEqual(['Affiche']);
    expect(await titles('tag=contrats')).toEqual(['Modèle de contrat AMAP']);
    const paged = await search('perPage=1&page=2');
    expect(paged.items).toHaveLength(1);
    expect(paged.total).toBeGreaterThanOrEqual(4);
  });

  it('renders the library pages without JavaScript', async () => {
    const list = await fetch(`${instance.url}/resources?q=contrats`);
    expect(list.status).toBe(200);
    const page = await list.text();
    expect(page).toContain('<html lang="fr">');
    expect(page).toContain('Modèle de contrat AMAP');
    expect(page).toMatch(/<label for="q">/);
    expect(page).toContain('href="/resources?q=contrats&amp;licence=cc-by-sa-4.0"');
    const id = /href="\/resources\/([0-9a-f-]{36})"/.exec(page)![1];
    const detail = await (await fetch(`${instance.url}/resources/${id}`)).text();
    expect(detail).toContain('Licence : CC BY-SA 4.0');
    expect(detail).toContain('https://creativecommons.org/licenses/by-sa/4.0/');
    expect(detail).toContain('Comment créditer');
    expect(detail).toContain('Contrat été.pdf');
    expect(detail).toContain('texte OpenDocument');
    expect(detail).not.toContain('<script>alert');
    expect((await fetch(`${instance.url}/resources/00000000-0000-0000-0000-000000000000`)).status).toBe(404);
  });

  it('lists the resources API in the OpenAPI description', async () => {
    const spec = await (await fetch(`${instance.url}/api/openapi.json`)).json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/api/v1/resources', '/api/v1/resources/{id}', '/api/v1/resources/{id}/files']),
    );
    expect(spec.paths['/api/v1/resources'].post.tags).toEqual(['resources']);
    const licences = await (await fetch(`${instance.url}/api/v1/resources/licences`)).json();
    expect(licences.map((l: { code: string }) => l.code)).toEqual([
      'cc-by-4.0',
      'cc-by-sa-4.0',
      'cc-by-nc-sa-4.0',
      'cc0-1.0',
      'etalab-2.0',
      'all-rights-reserved',
    ]);
  });

  it('sweeps stored files that no resource refers to once they are old enough', async () => {
    const storage = new LocalFileStorage(filesRoot());
    const m = { ctx: instance.ctx, storage };
    const orphan = await storage.put(Readable.from([makePdf('orphelin')]), { maxBytes: 10_000 });
    const all: Array<{ hash: string }> = [];
    for await (const f of storage.list()) all.push(f);
    expect(all.map((f) => f.hash)).toContain(orphan.hash);
    const referenced = all.filter((f) => f.hash !== orphan.hash);
    expect(referenced.length).toBeGreaterThan(0);
    // Fresh files are left alone (an upload may be about to commit its row).
    expect(await sweepOrphanFiles(m)).toBe(0);
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const f of all) fs.utimesSync(path.join(filesRoot(), f.hash.slice(0, 2), f.hash.slice(2, 4), f.hash), old, old);
    expect(await sweepOrphanFiles(m)).toBe(1);
    expect(await storage.exists(orphan.hash)).toBe(false);
    for (const f of referenced) expect(await storage.exists(f.hash)).toBe(true);
  });

  it('leaves nothing behind when the client hangs up in the middle of an upload', async () => {
    const storage = new LocalFileStorage(filesRoot());
    const filesBefore = storedFiles().length;
    const countBefore = await resourceCount();
    const boundary = 'amapboundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nCoupé\r\n--${boundary}\r\nContent-Disposition: form-data; name="licence"\r\n\r\ncc-by-4.0\r\n--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="long.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
    const { port } = new URL(instance.url);
    const request = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/v1/resources',
      headers: { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(10 * 1024 * 1024) },
    });
    request.on('error', () => {});
    request.write(head);
    request.write(makePdf());
    request.write(Buffer.alloc(512 * 1024, 0x20));
    // Wait until the server is writing the temporary file, then hang up.
    const deadline = Date.now() + 10_000;
    while (storage.temporaryCount() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(storage.temporaryCount()).toBe(1);
    request.destroy();
    while (storage.temporaryCount() > 0 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 20));
    expect(storage.temporaryCount()).toBe(0);
    expect(storedFiles().length).toBe(filesBefore);
    expect(await resourceCount()).toBe(countBefore);
  });
});
