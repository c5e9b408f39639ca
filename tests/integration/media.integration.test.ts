// Editors' images from other sites are copied to the instance when an announcement is saved, so
// that its pages make no third-party request: a real "other site" on 127.0.0.1 serves an image, a
// page pretending to be one, and an error; the instance copies the first and refuses the others.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithToken } from '../helpers/accounts.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';

// A valid 1x1 PNG, then random bytes so each run's content (and hash) is new.
const PNG = Buffer.concat([
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'),
  crypto.randomBytes(16),
]);

let instance: TestInstance;
let token: string;
let other: http.Server;
let otherUrl: string;
let hits = 0;

beforeAll(async () => {
  other = http.createServer((req, res) => {
    hits++;
    if (req.url === '/photo.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else if (req.url === '/fake.png') res.writeHead(200, { 'content-type': 'image/png' }).end('<svg onload="alert(1)"></svg>');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  instance = await startTestInstance();
  token = (await createUserWithToken(instance.ctx, 'editor')).token;
});

afterAll(async () => {
  await instance?.destroy();
  await new Promise((resolve) => other?.close(resolve));
});

function create(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${instance.url}/api/v1/announcements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'Fête des AMAP', status: 'published', ...body }),
  });
}

describe('images of announcements', () => {
  it('copies the main image and the body’s images here; the page then refers to no other site', async () => {
    const res = await create({
      body: `Venez nombreux.\n\n![Le marché](${otherUrl}/photo.png "marché")\n\nEt encore ![le même](${otherUrl}/photo.png).`,
      imageUrl: `${otherUrl}/photo.png`,
      imageAlt: 'Des paniers de légumes',
    });
    expect(res.status).toBe(201);
    const row = await res.json();
    const hash = crypto.createHash('sha256').update(PNG).digest('hex');
    const copy = `${instance.url}/media/${hash}.png`;
    expect(row.imageUrl).toBe(copy);
    expect(row.contentHtml).toContain(`<img src="${copy}"`);
    expect(row.contentHtml).not.toContain(otherUrl);

    const image = await fetch(copy);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.headers.get('cache-control')).toContain('immutable');
    expect(Buffer.from(await image.arrayBuffer()).equals(PNG)).toBe(true);

    const page = await (await fetch(`${instance.url}/announcements/${row.id}`)).text();
    expect(page).toContain(copy);
    expect(page).not.toContain(otherUrl);
  });

  it('refuses, with the field and a clear message, what is not an image or cannot be fetched; nothing is stored', async () => {
    const before = hits;
    for (const [url, pattern] of [
      [`${otherUrl}/fake.png`, /not a PNG, JPEG, GIF or WebP image/],
      [`${otherUrl}/missing.png`, /HTTP 404/],
    ] as const) {
      const res = await create({ body: 'Texte.', imageUrl: url, imageAlt: 'x' });
      expect(res.status).toBe(400);
      const { error } = await res.json();
      expect(error.code).toBe('validation_failed');
      expect(error.message).toMatch(pattern);
      expect(error.details[0].field).toBe('imageUrl');
    }
    expect(hits).toBe(before + 2);
    const count = await instance.ctx.db
      .selectFrom('announcements')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('title', '=', 'Fête des AMAP')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
    expect((await fetch(`${instance.url}/media/${'0'.repeat(64)}.png`)).status).toBe(404);
    expect((await fetch(`${instance.url}/media/..%2f..%2fetc.png`)).status).toBe(400);
  });

  it('pages forbid images from other sites (CSP), and a pasted HTML image from elsewhere becomes a link', async () => {
    const res = await fetch(`${instance.url}/`);
    expect(res.headers.get('content-security-policy')).toContain("img-src 'self' data:;");
    const { renderMarkdown } = await import('../../server/announcements/announcements.domain.ts');
    const html = renderMarkdown(`<img src="${otherUrl}/pixel.gif" alt="suivi">`);
    expect(html).not.toContain('<img');
    expect(html).toContain(`<a href="${otherUrl}/pixel.gif"`);
  });
});
