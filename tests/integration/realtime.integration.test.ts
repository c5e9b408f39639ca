// The live feed with real WebSocket clients (Node's global WebSocket) against real instances: a
// message arrives when an announcement is published (and only when its transaction commits), the
// topic and the connection limit are enforced before the upgrade, and on PostgreSQL two web
// processes sharing one database relay each other's messages through LISTEN/NOTIFY.
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { upsertRemoteAnnouncement } from '../../server/announcements/remote-announcements.service.ts';
import { publishRealtime } from '../../server/realtime/realtime.publish.ts';
import { realtimeHub } from '../../server/realtime/realtime.routes.ts';
import { createUserWithToken } from '../helpers/accounts.ts';
import { usingPostgres } from '../helpers/database.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';

interface Live {
  socket: WebSocket;
  messages: Array<{ topic: string; data: Record<string, unknown> }>;
}

let instance: TestInstance;
let token: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  instance = await startTestInstance();
  token = (await createUserWithToken(instance.ctx, 'editor')).token;
});

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

afterAll(async () => {
  await instance?.destroy();
});

function wsUrl(base: string, query = '?topics=announcements'): string {
  return `${base.replace(/^http/, 'ws')}/live${query}`;
}

/** Opens a socket; resolves once open, rejects if the server refuses the upgrade. */
function connect(base: string, query?: string): Promise<Live> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl(base, query));
    sockets.push(socket);
    const live: Live = { socket, messages: [] };
    socket.addEventListener('message', (event) => live.messages.push(JSON.parse(String(event.data))));
    socket.addEventListener('open', () => resolve(live));
    socket.addEventListener('error', () => reject(new Error('connection refused')));
  });
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function post(base: string, body: Record<string, unknown>): Promise<{ id: string; title: string }> {
  const response = await fetch(`${base}/api/v1/announcements`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return response.json();
}

describe(`live feed (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('delivers a new published announcement to an open socket, small, and nothing for a draft', async () => {
    const live = await connect(instance.url);
    await waitFor(() => (realtimeHub(instance.ctx)!.size > 0 ? true : undefined));
    await post(instance.url, { title: 'Brouillon', body: 'pas encore' });
    const published = await post(instance.url, { title: 'En direct', body: 'Bonjour', status: 'published' });
    const message = await waitFor(() => live.messages.find((m) => m.data.id === published.id));
    expect(message).toEqual({
      topic: 'announcements',
      data: expect.objectContaining({
        type: 'published',
        id: published.id,
        title: 'En direct',
        url: `/announcements/${published.id}`,
        origin: 'local',
      }),
    });
    // The draft published nothing: the first message is the published one.
    expect(live.messages[0]?.data.id).toBe(published.id);
    expect(JSON.stringify(message).length).toBeLessThan(600);
  });

  it('delivers announcements received from other networks too', async () => {
    const live = await connect(instance.url);
    const { id } = await instance.ctx.db.transaction().execute((trx) =>
      upsertRemoteAnnouncement(trx, {
        apId: 'https://aura.example/a/live',
        url: 'https://aura.example/a/live',
        actorId: 'https://aura.example/actor',
        networkName: 'AURA',
        networkHandle: 'aura@aura.example',
        title: 'De loin',
        summary: '',
        contentHtml: '<p>x</p>',
        tags: [],
        publishedAt: new Date(),
      }),
    );
    const message = await waitFor(() => live.messages.find((m) => m.data.id === id));
    expect(message.data).toMatchObject({ origin: 'remote', networkName: 'AURA', networkHandle: 'aura@aura.example' });
  });

  it('sends nothing when the transaction rolls back', async () => {
    const live = await connect(instance.url);
    await instance.ctx.db
      .transaction()
      .execute(async (trx) => {
        await publishRealtime(trx, 'announcements', { type: 'published', id: 'rolled-back' });
        throw new Error('abort');
      })
      .catch(() => {});
    await instance.ctx.db.transaction().execute((trx) => publishRealtime(trx, 'announcements', { type: 'marker', id: 'after' }));
    await waitFor(() => live.messages.find((m) => m.data.id === 'after'));
    expect(live.messages.map((m) => m.data.id)).toEqual(['after']);
  });

  it('refuses unknown topics and connections beyond the limit, before the upgrade', async () => {
    await expect(connect(instance.url, '?topics=secret')).rejects.toThrow();
    const refused = await fetch(`${instance.url}/live?topics=secret`);
    expect(refused.status).toBe(400);
    const hub = realtimeHub(instance.ctx)!;
    const before = hub.maxConnections;
    try {
      await connect(instance.url);
      hub.maxConnections = hub.size;
      await expect(connect(instance.url)).rejects.toThrow();
    } finally {
      hub.maxConnections = before;
    }
  });

  it('closes a client that sends more than a small frame', async () => {
    const live = await connect(instance.url);
    const closed = new Promise<number>((resolve) => live.socket.addEventListener('close', (event) => resolve(event.code)));
    live.socket.send('x'.repeat(5000));
    expect(await closed).toBe(1009);
  });

  it.runIf(usingPostgres())('listens again after its PostgreSQL connection is cut', async () => {
    const live = await connect(instance.url);
    const killed = await sql<{ n: number }>`select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
      where datname = current_database() and query = 'listen amap_realtime' and pid <> pg_backend_pid()`.execute(instance.ctx.db);
    expect(killed.rows[0]?.n).toBe(1);
    // Publish until a message gets through: the listener reconnects after a short delay.
    let n = 0;
    await waitFor(() => {
      void instance.ctx.db.transaction().execute((trx) => publishRealtime(trx, 'announcements', { type: 'marker', id: `retry-${n++}` }));
      return live.messages.length > 0 ? true : undefined;
    }, 15_000);
  });

  it.runIf(usingPostgres())('relays between two web processes sharing one PostgreSQL database', async () => {
    const second = await startTestInstance({ DATABASE_URL: instance.config.databaseUrl!, PROCESS_ROLE: 'web' });
    try {
      const onB = await connect(second.url);
      const onA = await connect(instance.url);
      const published = await post(instance.url, { title: 'De A vers B', body: 'x', status: 'published' });
      const viaB = await waitFor(() => onB.messages.find((m) => m.data.id === published.id));
      expect(viaB.data.title).toBe('De A vers B');
      await waitFor(() => onA.messages.find((m) => m.data.id === published.id));
      // Each process relays each message once.
      await new Promise((r) => setTimeout(r, 200));
      expect(onB.messages.filter((m) => m.data.id === published.id)).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});
