// Shared by the discussions integration tests: REST calls as staff (API token) or as a member
// (session cookie + CSRF header), and a member signing in through the real emailed link.
import { expect } from 'vitest';
import { cookieFrom } from './accounts.ts';
import type { TestInstance } from './instance.ts';
import { messagesTo, parseMail, type SmtpSink } from './smtp.ts';

export interface MemberSession {
  cookie: string;
  csrf: string;
  id: string;
  actor: string;
  handle: string;
}

export type Auth = { token: string } | { session: MemberSession } | undefined;

export async function api(instance: TestInstance, method: string, path: string, auth?: Auth, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth && 'token' in auth) headers.authorization = `Bearer ${auth.token}`;
  if (auth && 'session' in auth) {
    headers.cookie = `amap_member=${auth.session.cookie}`;
    headers['x-csrf-token'] = auth.session.csrf;
  }
  return fetch(`${instance.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    redirect: 'manual',
  });
}

export async function json<T = any>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** The sign-in link of the `count`-th email sent to `address` (waits for it). */
export async function signInLinkIn(sink: SmtpSink, address: string, count: number): Promise<string> {
  const until = Date.now() + 20_000;
  while (messagesTo(sink, address).length < count) {
    if (Date.now() > until) throw new Error(`no email for ${address}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const mail = await parseMail(messagesTo(sink, address)[count - 1]!);
  const match = mail.text?.match(/https?:\/\/\S+\/members\/sign-in\/([A-Za-z0-9_-]{43})\S*/);
  if (!match) throw new Error(`no sign-in link in ${mail.text}`);
  expect(mail.html).toContain(match[0].replaceAll('&', '&amp;'));
  return match[0];
}

export function tokenOf(link: string): string {
  return /\/members\/sign-in\/([A-Za-z0-9_-]+)/.exec(link)![1]!;
}

/** Asks for a link, takes it from the email, confirms it through the API: a member session. */
export async function signIn(instance: TestInstance, sink: SmtpSink, email: string, displayName?: string): Promise<MemberSession> {
  const before = messagesTo(sink, email).length;
  await json(await api(instance, 'POST', '/api/v1/discussions/sign-in', undefined, { email }), 202);
  const link = await signInLinkIn(sink, email, before + 1);
  const response = await api(instance, 'POST', '/api/v1/discussions/sign-in/confirm', undefined, {
    token: tokenOf(link),
    ...(displayName ? { displayName } : {}),
  });
  const body = await json<{ member: { id: string; actor: string; handle: string }; csrfToken: string }>(response, 200);
  const cookie = cookieFrom(response, 'amap_member');
  if (!cookie) throw new Error('no member cookie');
  return { cookie, csrf: body.csrfToken, id: body.member.id, actor: body.member.actor, handle: body.member.handle };
}
