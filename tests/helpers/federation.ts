// Helpers for federation tests: instances named like networks, an admin token on each, calls to
// the REST API, publishing announcements, and waiting (polling) for something to become true.
import { createAnnouncement, deleteAnnouncement, updateAnnouncement } from '../../server/announcements/announcements.service.ts';
import type { AnnouncementInput } from '../../server/announcements/announcements.domain.ts';
import type { AppContext } from '../../server/core/context.ts';
import { createUserWithToken } from './accounts.ts';
import { startTestInstance, type TestInstance } from './instance.ts';

export interface Network extends TestInstance {
  handle: string;
  /** `handle@127.0.0.1:port`, what another admin types to follow it. */
  address: string;
  token: string;
  api<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export async function startNetwork(handle: string, env: Record<string, string> = {}): Promise<Network> {
  const instance = await startTestInstance({ INSTANCE_HANDLE: handle, INSTANCE_NAME: `Réseau ${handle}`, ...env });
  const { token } = await createUserWithToken(instance.ctx, 'admin');
  const host = new URL(instance.url).host;
  return Object.assign(instance, {
    handle,
    address: `${handle}@${host}`,
    token,
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
  { timeoutMs = 15_000, intervalMs = 100, what = 'condition' } = {},
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
