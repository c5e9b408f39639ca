// Helpers for federation tests: instances named like networks, an admin token on each, calls to
// the REST API, publishing announcements, and waiting (polling) for something to become true.

import type { AnnouncementInput } from '../../server/announcements/announcements.domain.ts';
import { createAnnouncement, deleteAnnouncement, updateAnnouncement } from '../../server/announcements/announcements.service.ts';
import type { AppContext } from '../../server/core/context.ts';
import { insertFollow, setFollowStatus } from '../../server/federation/federation.repository.ts';
import { createUserWithToken } from './accounts.ts';
import { startTestInstance, type TestInstance } from './instance.ts';

export interface Network extends TestInstance {
  handle: string;
  /** `handle@127.0.0.1:port`, what another admin types to follow it. */
  address: string;
  token: string;
  admin: { email: string; password: string };
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export async function startNetwork(handle: string, env: Record<string, string> = {}): Promise<Network> {
  const instance = await startTestInstance({ INSTANCE_HANDLE: handle, INSTANCE_NAME: `Réseau ${handle}`, ...env });
  const { token, user, password } = await createUserWithToken(instance.ctx, 'admin');
  const host = new URL(instance.url).host;
  return Object.assign(instance, {
    handle,
    address: `${handle}@${host}`,
    token,
    admin: { email: user.email, password },
    async api<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${instance.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
    },
  });
}

export async function waitFor<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

const deps = (ctx: AppContext) => ({ config: ctx.config, events: ctx.events });

export async function publish(network: Network, input: AnnouncementInput): Promise<{ id: string; apId: string }> {
  const row = await network.ctx.db
    .transaction()
    .execute((trx) => createAnnouncement(trx, deps(network.ctx), null, { status: 'published', ...input }));
  return { id: row.id, apId: row.ap_id };
}

export async function edit(network: Network, id: string, input: AnnouncementInput): Promise<void> {
  await network.ctx.db.transaction().execute((trx) => updateAnnouncement(trx, deps(network.ctx), id, input));
}

export async function remove(network: Network, id: string): Promise<void> {
  await network.ctx.db.transaction().execute((trx) => deleteAnnouncement(trx, deps(network.ctx), id));
}

/** The announcement stored under `apId` on `network`, if any (deleted ones included). */
export function storedAnnouncement(network: Network, apId: string) {
  return network.ctx.db.selectFrom('announcements').selectAll().where('ap_id', '=', apId).executeTakeFirst();
}

/** `follower` follows `target` and waits until the follow is accepted. */
export async function follow(follower: Network, target: Network): Promise<void> {
  const { status, body } = await follower.api('POST', '/api/v1/follows', { target: target.address });
  if (status !== 201 && status !== 200) throw new Error(`follow failed: ${status} ${JSON.stringify(body)}`);
  await waitFor(
    async () => {
      const list = await follower.api<{ items: Array<{ handle: string; status: string }> }>('GET', '/api/v1/follows');
      return list.body.items.some((f) => f.handle === target.address && f.status === 'accepted');
    },
    { what: `${follower.handle} → ${target.handle} accepted` },
  );
}

// --- A fake remote server: one actor with an RSA key, an inbox that records, objects to fetch ---

export interface FakeServer {
  url: string;
  actorId: string;
  keyId: string;
  /** Activities received, in order, with the path they were posted to. */
  received: Array<{ path: string; body: any; headers: Record<string, string | string[] | undefined> }>;
  /** Status code to answer on POST (default 202) and delay before answering. */
  respond: { status: number; delayMs: number };
  /** Documents served on GET, by path. */
  documents: Map<string, unknown>;
  sign(inbox: string, activity: unknown, options?: { body?: string; date?: Date; keyId?: string }): Promise<Response>;
  /** The signed headers and body of a POST, without sending it. */
  prepare(inbox: string, activity: unknown): Promise<{ headers: Headers; body: string }>;
  close(): Promise<void>;
}

export async function startFakeServer(name = 'fake', options: { sharedInbox?: boolean } = {}): Promise<FakeServer> {
  const http = await import('node:http');
  const { generateCryptoKeyPair, signRequest } = await import('@fedify/fedify');
  const { exportSpki } = await import('@fedify/vocab-runtime');
  const { Temporal } = await import('@js-temporal/polyfill');
  const keys = await generateCryptoKeyPair('RSASSA-PKCS1-v1_5');
  const pem = await exportSpki(keys.publicKey);
  const documents = new Map<string, unknown>();
  const received: FakeServer['received'] = [];
  const respond = { status: 202, delayMs: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') {
        let body: unknown = null;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {}
        const answer = () => {
          received.push({ path: req.url ?? '', body, headers: req.headers });
          res.writeHead(respond.status).end();
        };
        if (respond.delayMs > 0) setTimeout(answer, respond.delayMs);
        else answer();
        return;
      }
      const doc = documents.get(req.url ?? '');
      if (doc === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/activity+json' }).end(JSON.stringify(doc));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const actorId = `${url}/actor`;
  const keyId = `${actorId}#main-key`;
  documents.set('/actor', {
    '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
    id: actorId,
    type: 'Organization',
    preferredUsername: name,
    name: `Réseau ${name}`,
    inbox: `${url}/actor/inbox`,
    ...(options.sharedInbox === false ? {} : { endpoints: { sharedInbox: `${url}/inbox` } }),
    publicKey: { id: keyId, owner: actorId, publicKeyPem: pem },
  });
  return {
    url,
    actorId,
    keyId,
    received,
    respond,
    documents,
    async sign(inbox, activity, opts = {}) {
      const body = opts.body ?? JSON.stringify(activity);
      const request = new Request(inbox, {
        method: 'POST',
        headers: { 'content-type': 'application/activity+json' },
        body: JSON.stringify(activity),
      });
      const signed = await signRequest(request, keys.privateKey, new URL(opts.keyId ?? keyId), {
        spec: 'draft-cavage-http-signatures-12',
        ...(opts.date ? { currentTime: Temporal.Instant.from(opts.date.toISOString()) as any } : {}),
      });
      // A tampered body keeps the signature made for the original one.
      return fetch(inbox, { method: 'POST', headers: signed.headers, body });
    },
    async prepare(inbox, activity) {
      const body = JSON.stringify(activity);
      const request = new Request(inbox, { method: 'POST', headers: { 'content-type': 'application/activity+json' }, body });
      const signed = await signRequest(request, keys.privateKey, new URL(keyId), { spec: 'draft-cavage-http-signatures-12' });
      return { headers: signed.headers, body };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** True when `queue` has no job waiting, running or scheduled for a retry. */
export async function queueIdle(ctx: AppContext, queue: string): Promise<boolean> {
  const jobs = await ctx.queue.boss.findJobs(queue, { limit: 10_000 });
  return !jobs.some((j) => j.state === 'created' || j.state === 'active' || j.state === 'retry');
}

/** The jobs of `queue` (all states), for assertions on retries. */
export function jobsOf(ctx: AppContext, queue: string) {
  return ctx.queue.boss.findJobs<any>(queue, { limit: 10_000 });
}

/** `network` follows `fake`, accepted, as if the fake server had answered the Follow. */
export async function followFake(network: { ctx: AppContext }, fake: FakeServer): Promise<void> {
  const info = {
    id: fake.actorId,
    handle: `${new URL(fake.actorId).pathname.slice(1)}@${new URL(fake.url).host}`,
    name: null,
    url: null,
    inbox: `${fake.url}/actor/inbox`,
    sharedInbox: `${fake.url}/inbox`,
  };
  await insertFollow(network.ctx.db, info, `${fake.url}/follow`);
  await setFollowStatus(network.ctx.db, fake.actorId, 'accepted');
}
