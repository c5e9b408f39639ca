// Finding remote actors: by handle (WebFinger) or by URL, always through the outbound guard, with
// a day-long cache in the database (federation_remote_actors).
import { isActor, lookupObject } from '@fedify/vocab';
import { AppError } from '../core/errors.ts';
import { getRemoteActor, type RemoteActorInfo, saveRemoteActor } from './federation.repository.ts';
import { GuardError } from './guard.ts';
import type { FederationRuntime } from './runtime.ts';

const CACHE_MS = 24 * 3600_000;

/** An error for the admin who typed the target: unknown → 404, unreachable → 502/504. */
function lookupFailure(error: unknown, target: string): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof GuardError) {
    if (error.kind === 'timeout') return Object.assign(new AppError('unavailable', `${target} did not answer in time.`), { status: 504 });
    if (error.kind === 'refused' || error.kind === 'bad_url')
      return new AppError('validation_failed', `${target} cannot be followed: ${error.message}`);
    return Object.assign(new AppError('unavailable', `${target} could not be reached: ${error.message}`), { status: 502 });
  }
  return Object.assign(new AppError('unavailable', `${target} could not be reached.`), { status: 502 });
}

export async function fetchActor(rt: FederationRuntime, actorUrl: string, options: { fresh?: boolean } = {}): Promise<RemoteActorInfo> {
  if (!options.fresh) {
    const cached = await getRemoteActor(rt.app.db, actorUrl, CACHE_MS);
    if (cached) return cached;
  }
  let object: Awaited<ReturnType<typeof lookupObject>>;
  try {
    object = await lookupObject(actorUrl, { documentLoader: rt.guard.documentLoader, contextLoader: rt.guard.documentLoader });
  } catch (error) {
    throw lookupFailure(error, actorUrl);
  }
  if (!object || !isActor(object) || !object.id || !object.inboxId) {
    throw new AppError('not_found', `${actorUrl} is not an ActivityPub actor.`);
  }
  if (object.id.origin !== new URL(actorUrl).origin)
    throw new AppError('validation_failed', `${actorUrl} names an actor on another server.`);
  const username = object.preferredUsername?.toString();
  const info: RemoteActorInfo = {
    id: object.id.href,
    handle: username ? `${username}@${object.id.host}` : null,
    name: object.name?.toString() ?? username ?? null,
    url: object.url instanceof URL ? object.url.href : (object.url?.href?.href ?? null),
    inbox: object.inboxId.href,
    sharedInbox: object.endpoints?.sharedInbox?.href ?? null,
  };
  await saveRemoteActor(rt.app.db, info);
  return info;
}

/** `name@host`, `@name@host`, `acct:name@host` or an actor URL → the actor. */
export async function resolveTarget(rt: FederationRuntime, target: string): Promise<RemoteActorInfo> {
  const text = target.trim();
  if (/^https?:\/\//i.test(text)) return fetchActor(rt, text, { fresh: true });
  const match = /^(?:acct:)?@?([^@\s/]+)@([^@\s/]+)$/.exec(text);
  if (!match) throw new AppError('validation_failed', 'Give a handle such as reseau@amap-aura.org, or the URL of an actor.');
  const [, user, host] = match as unknown as [string, string, string];
  const scheme = rt.app.config.federationAllowPrivate && /^(localhost|127\.|\[::1\])/.test(host) ? 'http' : 'https';
  const url = `${scheme}://${host}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${user}@${host}`)}`;
  let response: Response;
  try {
    response = await rt.guard.fetch(url, { headers: { accept: 'application/jrd+json, application/json' } });
  } catch (error) {
    throw lookupFailure(error, `${user}@${host}`);
  }
  if (response.status === 404 || response.status === 410) throw new AppError('not_found', `No network named ${user}@${host} was found.`);
  if (!response.ok) throw lookupFailure(new GuardError('network', `HTTP ${response.status}`), `${user}@${host}`);
  let jrd: { links?: Array<{ rel?: string; type?: string; href?: string }> };
  try {
    jrd = JSON.parse(await response.text());
  } catch {
    throw new AppError('not_found', `${user}@${host} did not answer with a WebFinger document.`);
  }
  const self = jrd.links?.find(
    (l) => l.rel === 'self' && typeof l.href === 'string' && /application\/(activity\+json|ld\+json)/.test(l.type ?? ''),
  );
  if (!self?.href) throw new AppError('not_found', `${user}@${host} has no ActivityPub actor.`);
  return fetchActor(rt, self.href, { fresh: true });
}
