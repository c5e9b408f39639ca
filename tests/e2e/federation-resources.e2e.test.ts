// Shared resources between two real instances on 127.0.0.1: aura publishes a document through its
// REST API, idf (which follows aura) keeps it as a remote resource that links to aura's files
// (nothing copied), sees the new version when aura edits it, and drops it when aura deletes it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usingPostgres } from '../helpers/database.ts';
import { follow, type Network, startNetwork, waitFor } from '../helpers/federation.ts';
import { makePdf } from '../helpers/resources-fixtures.ts';

function storedResource(network: Network, apId: string) {
  return network.ctx.db.selectFrom('resources').selectAll().where('ap_id', '=', apId).executeTakeFirst();
}

function filesOf(network: Network, resourceId: string) {
  return network.ctx.db.selectFrom('resource_files').selectAll().where('resource_id', '=', resourceId).orderBy('slot').execute();
}

function filesOnDisk(network: Network): string[] {
  const root = path.join(network.config.dataDir, 'files');
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true }) as string[]).filter((p) => fs.statSync(path.join(root, p)).isFile());
}

describe(`shared resources between instances (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  let aura: Network;
  let idf: Network;

  beforeAll(async () => {
    aura = await startNetwork('aura');
    idf = await startNetwork('idf');
    await follow(idf, aura);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([aura?.destroy(), idf?.destroy()]);
  });

  it('stores, updates and deletes a resource published by a followed network', async () => {
    const form = new FormData();
    form.append('title', 'Modèle de contrat AMAP');
    form.append('description', 'Un **modèle** de contrat à adapter.');
    form.append('tags', 'contrats, juridique');
    form.append('licence', 'cc-by-sa-4.0');
    form.append('files', new Blob([new Uint8Array(makePdf('contrat'))], { type: 'application/pdf' }), 'contrat.pdf');
    const response = await fetch(`${aura.url}/api/v1/resources`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aura.token}` },
      body: form,
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string; apId: string; files: Array<{ url: string }> };
    const diskBefore = filesOnDisk(idf).length;

    const onIdf = await waitFor(() => storedResource(idf, created.apId), { what: 'idf stores the resource' });
    expect(onIdf).toMatchObject({
      origin: 'remote',
      actor_id: `${aura.url}/ap/actors/aura`,
      network_handle: aura.address,
      title: 'Modèle de contrat AMAP',
      licence: 'cc-by-sa-4.0',
    });
    expect(onIdf.tags).toEqual(['contrats', 'juridique']);
    expect(onIdf.description_html).toContain('<strong>modèle</strong>');
    const files = await filesOf(idf, onIdf.id);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ name: 'contrat.pdf', kind: 'pdf', hash: null });
    expect(files[0]!.remote_url).toBe(`${aura.url}${created.files[0]!.url}`);
    expect(filesOnDisk(idf).length).toBe(diskBefore); // linked, not copied

    // The public API of idf shows it with its licence.
    const view = await (await fetch(`${idf.url}/api/v1/resources/${onIdf.id}`)).json();
    expect(view.licence.code).toBe('cc-by-sa-4.0');

    // A new version of the file and a new title on aura → idf follows.
    const replace = new FormData();
    replace.append('replaces', (await (await fetch(`${aura.url}/api/v1/resources/${created.id}`)).json()).files[0].id);
    replace.append('file', new Blob([new Uint8Array(makePdf('contrat v2'))], { type: 'application/pdf' }), 'contrat-2026.pdf');
    const v2 = await fetch(`${aura.url}/api/v1/resources/${created.id}/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aura.token}` },
      body: replace,
    });
    expect(v2.status).toBe(201);
    const patched = await fetch(`${aura.url}/api/v1/resources/${created.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${aura.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Modèle de contrat AMAP 2026' }),
    });
    expect(patched.status).toBe(200);
    await waitFor(
      async () => {
        const row = await storedResource(idf, created.apId);
        if (row?.title !== 'Modèle de contrat AMAP 2026') return false;
        const now = await filesOf(idf, row.id);
        return now.length === 1 && now[0]!.name === 'contrat-2026.pdf';
      },
      { what: 'idf sees the new version' },
    );
    const updated = (await storedResource(idf, created.apId))!;
    expect(updated.id).toBe(onIdf.id);

    const deleted = await fetch(`${aura.url}/api/v1/resources/${created.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${aura.token}` },
    });
    expect(deleted.status).toBe(204);
    await waitFor(async () => !(await storedResource(idf, created.apId)), { what: 'idf drops the resource' });
    expect(await filesOf(idf, onIdf.id)).toHaveLength(0);
  }, 120_000);
});
