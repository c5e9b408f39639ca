// Shared resources received from the networks we follow: a Create/Update whose object is exactly
// an ActivityPub Document (Image, Video… are not library entries) becomes a remote resource of the
// library; a Delete of one removes it. Everything the resource needs (the sender's name, the
// Document and its attachments) is gathered before the short transaction opens: no network I/O
// inside it. Refusals (another network's resource, a private address) are logged without
// personal data and not retried.
import { Document } from '@fedify/vocab';
import { AppError } from '../core/errors.ts';
import { remoteResourceInput } from '../resources/resources.inbox.ts';
import { deleteRemoteResource, upsertRemoteResource } from '../resources/resources.remote.ts';
import { fetchActor } from './remote-actors.ts';
import type { FederationRuntime } from './runtime.ts';

/** An ActivityPub Document itself, not one of its subtypes (Image, Video, Audio, Page). */
export function isPlainDocument(object: unknown): object is Document {
  return object instanceof Document && Object.getPrototypeOf(object) === Document.prototype;
}

function refused(rt: FederationRuntime, objectId: string, error: unknown): boolean {
  if (error instanceof AppError && (error.code === 'forbidden' || error.code === 'bad_request')) {
    rt.app.log.warn({ object: objectId, reason: error.message }, 'federation: refused a shared resource');
    return true;
  }
  return false;
}

export async function storeResource(rt: FederationRuntime, doc: Document, actorId: string): Promise<void> {
  if (!doc.id) return;
  if (doc.attributionId && doc.attributionId.href !== actorId) {
    rt.app.log.warn({ object: doc.id.href }, 'federation: refused a resource whose author is not the sender');
    return;
  }
  const actor = await fetchActor(rt, actorId);
  const host = new URL(actorId).host;
  const input = await remoteResourceInput(doc, {
    actorId,
    networkName: actor.name ?? actor.handle ?? host,
    networkHandle: actor.handle ?? host,
  });
  if (!input) return;
  try {
    await rt.app.db.transaction().execute((trx) => upsertRemoteResource(trx, input, { allowPrivate: rt.guard.allowPrivate }));
  } catch (error) {
    if (!refused(rt, input.apId, error)) throw error;
  }
}

/** Deletes the resource `objectId` when there is one; false otherwise (it may be an announcement). */
export async function deleteResource(rt: FederationRuntime, objectId: string, actorId: string): Promise<boolean> {
  try {
    return await rt.app.db.transaction().execute((trx) => deleteRemoteResource(trx, objectId, actorId));
  } catch (error) {
    if (refused(rt, objectId, error)) return true;
    throw error;
  }
}
