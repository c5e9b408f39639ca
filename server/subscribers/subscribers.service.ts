// The rules of subscribing: double opt-in, preferences, unsubscribe, export and erasure.
// Routes and pages translate HTTP; this file decides. Emails are never sent from here: a job is
// enqueued in the same transaction (see subscribers.mail.ts).
import { sha256Hex } from '../accounts/secrets.ts';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../core/events.ts';
import { listFollowsOfSubscriber } from '../discussions/digest.repository.ts';
import { headerText, normaliseEmail } from '../mail/mail.headers.ts';
import { addressProblem } from './email-policy.ts';
import {
  deleteSubscriber,
  findSubscriberByEmail,
  findSubscriberById,
  insertConsents,
  insertSubscriber,
  listConsents,
  listDeliveriesOf,
  type Subscriber,
  suppress,
  unsuppress,
  updateSubscriber,
} from './subscribers.repository.ts';
import type { ConsentMethod, Frequency, Source } from './subscribers.tables.ts';

export const CONSENT_VERSION = '2026-11-v1';
export const SUBSCRIBER_MAIL_QUEUE = 'subscribers.mail';
export const FREQUENCIES: readonly Frequency[] = ['alert', 'weekly', 'monthly'];
export const SOURCES: readonly Source[] = ['network', 'national', 'resources'];

export const CONSENT_TEXT = {
  fr: 'J’accepte de recevoir la lettre d’information de {instance} à cette adresse. Je peux me désabonner à tout moment par le lien présent dans chaque message ; mes données ne sont ni cédées ni utilisées à d’autres fins.',
  en: 'I agree to receive the {instance} newsletter at this address. I can unsubscribe at any time with the link in every message; my data is neither shared nor used for anything else.',
} as const;

export function consentText(locale: 'fr' | 'en', instance: string): string {
  return CONSENT_TEXT[locale].replace('{instance}', instance);
}

export function hashEmail(email: string): string {
  return sha256Hex(normaliseEmail(email));
}

export interface SubscribeInput {
  email: string;
  name?: string | null;
  language: 'fr' | 'en';
  frequency: Frequency;
  sources: Source[];
  networks?: string[];
  consent: boolean;
}

export function cleanName(name: string | null | undefined): string | null {
  const clean = headerText((name ?? '').replace(/[<>"]+/g, ' '), 100);
  return clean === '' ? null : clean;
}

export function validatedEmail(raw: string): string {
  const email = normaliseEmail(raw);
  const problem = addressProblem(email);
  if (problem === 'invalid') {
    throw new AppError('validation_failed', 'This email address is not valid: check it and try again.', {
      field: 'email',
      reason: 'newsletter.error.invalid',
    });
  }
  if (problem === 'disposable') {
    throw new AppError('validation_failed', 'Addresses from disposable mail services are not accepted: use your usual address.', {
      field: 'email',
      reason: 'newsletter.error.disposable',
    });
  }
  return email;
}

function cleanSources(sources: Source[]): Source[] {
  return SOURCES.filter((s) => sources.includes(s));
}

function cleanNetworks(networks: string[] | undefined): string[] {
  return [...new Set((networks ?? []).filter((n) => /^[\w.-]{1,64}(@[\w.-]{1,253})?$/.test(n)))].slice(0, 50);
}

/**
 * Records a subscription request and enqueues the confirmation email. Whatever the address's
 * state, the caller shows the same answer ("check your mailbox"), so the form does not reveal who
 * is subscribed. An active subscriber receives a link to their preferences instead.
 */
export async function requestSubscription(
  ctx: AppContext,
  trx: Executor,
  input: SubscribeInput,
  method: ConsentMethod,
): Promise<{ subscriber: Subscriber; mail: 'confirm' | 'manage' }> {
  if (!input.consent) {
    throw new AppError('validation_failed', 'Tick the consent box to subscribe.', { field: 'consent', reason: 'newsletter.error.consent' });
  }
  const email = validatedEmail(input.email);
  const prefs = {
    name: cleanName(input.name),
    language: input.language,
    frequency: input.frequency,
    sources: cleanSources(input.sources),
    networks: cleanNetworks(input.networks),
  };
  let subscriber = await findSubscriberByEmail(trx, email);
  let mail: 'confirm' | 'manage' = 'confirm';
  if (!subscriber) {
    subscriber = await insertSubscriber(trx, { email, emailHash: hashEmail(email), status: 'pending', ...prefs });
  } else if (subscriber.status === 'active') {
    mail = 'manage';
  } else {
    // Pending, unsubscribed or bouncing: start a new double opt-in; nothing changes until confirmed
    // except the wishes, which only matter once confirmed.
    subscriber = await updateSubscriber(trx, subscriber.id, { ...prefs, status: 'pending' });
  }
  if (mail === 'confirm') {
    await insertConsents(trx, [
      {
        subscriberId: subscriber.id,
        action: 'subscribe',
        method,
        textVersion: CONSENT_VERSION,
        text: consentText(input.language, ctx.config.instanceName),
      },
    ]);
  }
  await ctx.queue.send(SUBSCRIBER_MAIL_QUEUE, { subscriberId: subscriber.id, kind: mail }, { trx });
  return { subscriber, mail };
}

export async function confirmSubscription(ctx: AppContext, trx: Executor, subscriberId: string): Promise<Subscriber> {
  const subscriber = await findSubscriberById(trx, subscriberId);
  if (!subscriber)
    throw new AppError('not_found', 'This subscription no longer exists: subscribe again.', { reason: 'newsletter.link.unknown' });
  if (subscriber.status === 'active') return subscriber;
  if (subscriber.status !== 'pending') {
    throw new AppError('gone', 'This link was for an earlier subscription: subscribe again.', { reason: 'newsletter.link.expired' });
  }
  const now = new Date();
  const updated = await updateSubscriber(trx, subscriber.id, { status: 'active', confirmedAt: now, unsubscribedAt: null });
  await unsuppress(trx, subscriber.emailHash);
  await insertConsents(trx, [
    {
      subscriberId: subscriber.id,
      action: 'confirm',
      method: 'form',
      textVersion: CONSENT_VERSION,
      text: consentText(subscriber.language, ctx.config.instanceName),
    },
  ]);
  return updated;
}

export interface Preferences {
  name?: string | null;
  language?: 'fr' | 'en';
  frequency: Frequency;
  sources: Source[];
  networks?: string[];
}

export async function updatePreferences(trx: Executor, subscriberId: string, prefs: Preferences): Promise<Subscriber> {
  const subscriber = await requireSubscriber(trx, subscriberId);
  const updated = await updateSubscriber(trx, subscriber.id, {
    ...(prefs.name !== undefined ? { name: cleanName(prefs.name) } : {}),
    ...(prefs.language ? { language: prefs.language } : {}),
    frequency: prefs.frequency,
    sources: cleanSources(prefs.sources),
    networks: cleanNetworks(prefs.networks),
  });
  await insertConsents(trx, [{ subscriberId: subscriber.id, action: 'preferences', method: 'form', textVersion: CONSENT_VERSION }]);
  return updated;
}

export async function unsubscribe(trx: Executor, subscriberId: string, method: ConsentMethod = 'form'): Promise<Subscriber | undefined> {
  const subscriber = await findSubscriberById(trx, subscriberId);
  // Unsubscribing twice, or after an erasure, is not an error: the person gets what they asked.
  if (!subscriber) return undefined;
  if (subscriber.status === 'unsubscribed') return subscriber;
  const updated = await updateSubscriber(trx, subscriber.id, { status: 'unsubscribed', unsubscribedAt: new Date() });
  await suppress(trx, subscriber.emailHash, 'unsubscribed');
  await insertConsents(trx, [{ subscriberId: subscriber.id, action: 'unsubscribe', method, textVersion: CONSENT_VERSION }]);
  return updated;
}

/** Everything held about one subscriber, as the "my data" page offers it for download. */
export async function exportSubscriber(trx: Executor, subscriberId: string) {
  const s = await requireSubscriber(trx, subscriberId);
  return {
    email: s.email,
    name: s.name,
    language: s.language,
    status: s.status,
    frequency: s.frequency,
    sources: s.sources,
    networks: s.networks,
    createdAt: s.createdAt.toISOString(),
    confirmedAt: s.confirmedAt?.toISOString() ?? null,
    unsubscribedAt: s.unsubscribedAt?.toISOString() ?? null,
    bounceCount: s.bounceCount,
    consents: (await listConsents(trx, s.id)).map((c) => ({ ...c, createdAt: c.createdAt.toISOString() })),
    newsletters: (await listDeliveriesOf(trx, s.id)).map((d) => ({ ...d, sentAt: d.sentAt?.toISOString() ?? null })),
    // Groups followed by email (daily digest); erasure removes them with the subscriber (cascade).
    groupDigests: (await listFollowsOfSubscriber(trx, s.id)).map((f) => ({
      ...f,
      createdAt: f.createdAt.toISOString(),
      confirmedAt: f.confirmedAt?.toISOString() ?? null,
      lastSentAt: f.lastSentAt?.toISOString() ?? null,
    })),
  };
}

/** Erasure: every row about the person goes (consents and deliveries by cascade); only the hash stays. */
export async function eraseSubscriber(trx: Executor, subscriberId: string): Promise<void> {
  const s = await findSubscriberById(trx, subscriberId);
  if (!s) return;
  await suppress(trx, s.emailHash, 'erased');
  await deleteSubscriber(trx, s.id);
}

export async function requireSubscriber(trx: Executor, subscriberId: string): Promise<Subscriber> {
  const s = await findSubscriberById(trx, subscriberId);
  if (!s) throw new AppError('not_found', 'This subscription no longer exists.', { reason: 'newsletter.link.unknown' });
  return s;
}
