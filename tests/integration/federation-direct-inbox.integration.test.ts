// The direct inbox (server/federation/inbox-direct.ts) against a real instance and a fake remote
// network on 127.0.0.1: a followed network's plain Create(Article) is verified and stored before
// the 202 (no job in Fedify's inbox queue); what it does not read itself still reaches Fedify
// and is stored through the queue; a bad signature or an impostor's key stores nothing.
import { generateCryptoKeyPair, signRequest } from '@fedify/fedify';
import { exportSpki } from '@fedify/vocab-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEDIFY_QUEUE } from '../../server/federation/fedify-queue.ts';
import {
  type FakeServer,
  followFake,
  jobsOf,
  type Network,
  queueIdle,
  startFakeServer,
  startNetwork,
  storedAnnouncement,
  waitFor,
} from '../helpers/federation.ts';

const AS = 'https://www.w3.org/ns/activitystreams';
let counter = 0;

function createArticle(fake: FakeServer, context: unknown = [AS, 'https://w3id.org/security/v1']) {
  const n = ++counter;
  return {
    '@context': context,
    id: `${fake.url}/activities/direct-${n}`,
    type: 'Create',
    actor: fake.actorId,
    to: [`${AS}#Public`],
    object: {
      id: `${fake.url}/articles/direct-${n}`,
      type: 'Article',
      attributedTo: fake.actorId,
      name: `Annonce directe ${n}`,
      summary: 'Résumé',
      content: '<p>Texte <img src=x onerror="alert(1)"></p>',
      published: new Date().toISOString(),
    },
  };
}

describe('direct inbox', () => {
  let hub: Network;
  let nord: FakeServer;
  let intrus: FakeServer;

  beforeAll(async () => {
    [hub, nord, intrus] = await Promise.all([startNetwork('reseau'), startFakeServer('nord'), startFakeServer('intrus')]);
    await followFake(hub, nord);
    await followFake(hub, intrus);
  });
  afterAll(async () => {
    await Promise.all([hub?.destroy(), nord?.close(), intrus?.close()]);
  });

  it('stores a plain announcement before answering 202, without Fedify’s queue, sanitized', async () => {
    const before = (await jobsOf(hub.ctx, FEDIFY_QUEUE)).length;
    for (const inbox of [`${hub.url}/inbox`, `${hub.url}/ap/actors/reseau/inbox`]) {
      const activity = createArticle(nord);
      const response = await nord.sign(inbox, activity);
      expect(response.status).toBe(202);
      const stored = await storedAnnouncement(hub, activity.object.id); // no waiting: stored already
      expect(stored?.title).toBe(activity.object.name);
      expect(stored?.content_html).not.toContain('onerror');
      expect(stored?.network_name).toBe('Réseau nord');
    }
    expect((await jobsOf(hub.ctx, FEDIFY_QUEUE)).length).toBe(before);
  });

  it('hands what it does not read itself to Fedify, which stores it through the queue', async () => {
    // An inline context term the direct inbox does not know: JSON-LD processing is needed.
    const activity = createArticle(nord, [AS, { amap: 'https://amap.example/ns#', panier: 'amap:panier' }, 'https://w3id.org/security/v1']);
    activity.object = { ...activity.object, '@context': AS } as typeof activity.object;
    const before = (await jobsOf(hub.ctx, FEDIFY_QUEUE)).length;
    const response = await nord.sign(`${hub.url}/inbox`, activity);
    expect(response.status).toBe(202);
    const stored = await waitFor(() => storedAnnouncement(hub, activity.object.id), { what: 'stored through Fedify' });
    expect(stored.title).toBe(activity.object.name);
    expect((await jobsOf(hub.ctx, FEDIFY_QUEUE)).length).toBeGreaterThan(before);
  });

  it('stores nothing from a tampered body or from a key that is not the actor’s', async () => {
    const activity = createArticle(nord);
    const tampered = await nord.sign(`${hub.url}/inbox`, activity, {
      body: JSON.stringify({ ...activity, object: { ...activity.object, name: 'Piraté' } }),
    });
    expect(tampered.status).toBe(401);
    // intrus (followed too) signs, with its own valid key, an activity that claims to be nord's.
    const impostor = await intrus.sign(`${hub.url}/inbox`, activity);
    expect(impostor.status).toBe(401);
    await waitFor(() => queueIdle(hub.ctx, FEDIFY_QUEUE), { what: 'inbox queue idle' });
    expect(await storedAnnouncement(hub, activity.object.id)).toBeUndefined();
    // The genuine one still goes through afterwards.
    expect((await nord.sign(`${hub.url}/inbox`, activity)).status).toBe(202);
    expect((await storedAnnouncement(hub, activity.object.id))?.title).toBe(activity.object.name);
  });

  it('refuses a key hosted on another server that claims to be the actor’s', async () => {
    // intrus publishes a key document naming nord as its owner, and signs nord's activity with it.
    const intrusActor = intrus.documents.get('/actor') as { publicKey: { publicKeyPem: string } };
    intrus.documents.set('/keys/nord', {
      '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
      id: `${intrus.url}/keys/nord`,
      type: 'CryptographicKey',
      owner: nord.actorId,
      publicKeyPem: intrusActor.publicKey.publicKeyPem,
    });
    const activity = createArticle(nord);
    const response = await intrus.sign(`${hub.url}/inbox`, activity, { keyId: `${intrus.url}/keys/nord` });
    expect(response.status).toBe(401);
    // The same forgery for what Fedify handles: deleting one of nord's announcements.
    const genuine = createArticle(nord);
    expect((await nord.sign(`${hub.url}/inbox`, genuine)).status).toBe(202);
    const del = {
      '@context': AS,
      id: `${nord.url}/activities/forged-delete`,
      type: 'Delete',
      actor: nord.actorId,
      object: genuine.object.id,
    };
    expect((await intrus.sign(`${hub.url}/inbox`, del, { keyId: `${intrus.url}/keys/nord` })).status).toBe(401);
    await waitFor(() => queueIdle(hub.ctx, FEDIFY_QUEUE), { what: 'inbox queue idle' });
    expect(await storedAnnouncement(hub, activity.object.id)).toBeUndefined();
    expect((await storedAnnouncement(hub, genuine.object.id))?.deleted_at).toBeNull();
  });

  // Last: nord's key changes for good.
  it('picks up a rotated key: the first activity signed with it goes through Fedify, the next ones directly', async () => {
    const warm = createArticle(nord);
    expect((await nord.sign(`${hub.url}/inbox`, warm)).status).toBe(202); // the old key is now kept
    expect(await storedAnnouncement(hub, warm.object.id)).toBeDefined();
    const fresh = await generateCryptoKeyPair('RSASSA-PKCS1-v1_5');
    const actor = nord.documents.get('/actor') as { publicKey: Record<string, unknown> };
    nord.documents.set('/actor', { ...actor, publicKey: { ...actor.publicKey, publicKeyPem: await exportSpki(fresh.publicKey) } });
    const post = async (activity: unknown) => {
      const body = JSON.stringify(activity);
      const request = new Request(`${hub.url}/inbox`, { method: 'POST', headers: { 'content-type': 'application/activity+json' }, body });
      const signed = await signRequest(request, fresh.privateKey, new URL(nord.keyId), { spec: 'draft-cavage-http-signatures-12' });
      return fetch(`${hub.url}/inbox`, { method: 'POST', headers: signed.headers, body });
    };
    const first = createArticle(nord);
    expect((await post(first)).status).toBe(202);
    await waitFor(() => storedAnnouncement(hub, first.object.id), { what: 'stored with the new key' });
    const next = createArticle(nord);
    expect((await post(next)).status).toBe(202);
    expect((await storedAnnouncement(hub, next.object.id))?.title).toBe(next.object.name); // directly: no waiting
  });
});
