// The rules of following a group by email: who may, double opt-in with the consent recorded (what
// was agreed to, word for word), and unsubscribing. The address is a subscriber of the subscribers
// capability (one person, one row: export and erasure find everything there), but following a
// group never subscribes it to the newsletter: a new address stays `pending` for the newsletter.
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import { findSubscriberByEmail, findSubscriberById, insertConsents, insertSubscriber } from '../subscribers/subscribers.repository.ts';
import { hashEmail, validatedEmail } from '../subscribers/subscribers.service.ts';
import { t } from '../web/i18n.ts';
import { activateFollow, deleteFollow, findFollow, insertPendingFollow, isAcceptedMemberEmail } from './digest.repository.ts';
import { findGroupById, type GroupRow } from './groups.repository.ts';
import './digest.messages.ts';

export const DIGEST_MAIL_QUEUE = 'discussions.digest.mail';
export const DIGEST_CONSENT_VERSION = 'group-digest-2026-11-v1';

export interface DigestMailJob {
  subscriberId: string;
  groupId: string;
  kind: 'confirm' | 'already';
}

export function digestConsentText(locale: Locale, group: Pick<GroupRow, 'name' | 'handle'>, instance: string): string {
  return t(locale, 'digest.consentText', { group: `${group.name} (${group.handle})`, instance });
}

/** The group, if its digest may go to `email`: public groups to anyone, members-only groups only to accepted members. */
export async function followableGroup(trx: Executor, groupId: string, email: string | undefined): Promise<GroupRow> {
  const group = await findGroupById(trx, groupId);
  // A members-only group is not revealed to outsiders: the same answer as an unknown group.
  const hidden = new AppError('not_found', 'No such group.');
  if (!group) throw hidden;
  if (group.visibility === 'members' && !(email && (await isAcceptedMemberEmail(trx, group.id, email)))) throw hidden;
  return group;
}

export interface FollowRequest {
  groupId: string;
  email: string;
  locale: Locale;
  consent: boolean;
}

/**
 * Records the request (a pending follow and the consent given) and enqueues the confirmation
 * email, in the caller's transaction. Whatever the address's state, the caller shows the same
 * answer, so the form does not reveal who follows what.
 */
export async function requestFollow(ctx: AppContext, trx: Executor, input: FollowRequest): Promise<void> {
  if (!input.consent) {
    throw new AppError('validation_failed', 'Tick the consent box to follow the group.', {
      field: 'consent',
      reason: 'digest.error.consent',
    });
  }
  const email = validatedEmail(input.email);
  const group = await followableGroup(trx, input.groupId, email);
  let subscriber = await findSubscriberByEmail(trx, email);
  if (!subscriber) {
    subscriber = await insertSubscriber(trx, {
      email,
      emailHash: hashEmail(email),
      name: null,
      language: input.locale,
      // Not a newsletter subscription: pending there until the person asks for the newsletter.
      status: 'pending',
      frequency: 'weekly',
      sources: [],
      networks: [],
    });
  }
  const existing = await findFollow(trx, group.id, subscriber.id);
  if (existing?.status === 'active') {
    await ctx.queue.send(DIGEST_MAIL_QUEUE, { subscriberId: subscriber.id, groupId: group.id, kind: 'already' } satisfies DigestMailJob, {
      trx,
    });
    return;
  }
  await insertPendingFollow(trx, group.id, subscriber.id);
  await insertConsents(trx, [
    {
      subscriberId: subscriber.id,
      action: 'group-digest.subscribe',
      method: 'form',
      textVersion: DIGEST_CONSENT_VERSION,
      text: digestConsentText(input.locale, group, ctx.config.instanceName),
    },
  ]);
  await ctx.queue.send(DIGEST_MAIL_QUEUE, { subscriberId: subscriber.id, groupId: group.id, kind: 'confirm' } satisfies DigestMailJob, {
    trx,
  });
}

/** The click on the confirmation link: the follow becomes active, and the consent log says so. */
export async function confirmFollow(ctx: AppContext, trx: Executor, subscriberId: string, groupId: string): Promise<GroupRow> {
  const subscriber = await findSubscriberById(trx, subscriberId);
  const follow = subscriber ? await findFollow(trx, groupId, subscriberId) : undefined;
  if (!subscriber || !follow) throw new AppError('not_found', 'This follow no longer exists.', { reason: 'digest.link.unknown' });
  const group = await followableGroup(trx, groupId, subscriber.email).catch(() => {
    throw new AppError('not_found', 'This follow no longer exists.', { reason: 'digest.link.unknown' });
  });
  if (await activateFollow(trx, groupId, subscriberId, new Date())) {
    await insertConsents(trx, [
      {
        subscriberId,
        action: 'group-digest.confirm',
        method: 'form',
        textVersion: DIGEST_CONSENT_VERSION,
        text: digestConsentText(subscriber.language, group, ctx.config.instanceName),
      },
    ]);
  }
  return group;
}

/** Unsubscribing from one group's digest (page button or RFC 8058 one-click). Twice is not an error. */
export async function stopFollow(trx: Executor, subscriberId: string, groupId: string, method: 'form' | 'api' = 'form'): Promise<void> {
  if (!(await findSubscriberById(trx, subscriberId))) return;
  if (await deleteFollow(trx, groupId, subscriberId)) {
    await insertConsents(trx, [
      { subscriberId, action: 'group-digest.unsubscribe', method, textVersion: DIGEST_CONSENT_VERSION, text: `group ${groupId}` },
    ]);
  }
}
