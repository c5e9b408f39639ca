// Accounts for tests: a user with an API token (for REST calls), and a signed-in browser session
// (cookie + CSRF token) obtained through the real login form.
import crypto from 'node:crypto';
import { createApiToken, createUser } from '../../server/accounts/accounts.service.ts';
import type { Role } from '../../server/accounts/accounts.tables.ts';
import type { AppContext } from '../../server/core/context.ts';

export interface TestUser {
  user: { id: string; email: string; role: Role };
  password: string;
}

export async function createTestUser(ctx: AppContext, role: Role, email?: string, password?: string): Promise<TestUser> {
  const pass = password ?? `pw-${crypto.randomBytes(12).toString('hex')}`;
  const address = email ?? `${role}-${crypto.randomBytes(6).toString('hex')}@example.org`;
  const created = await createUser(ctx.db, { email: address, password: pass, role });
  return { user: { id: created.id, email: created.email, role: created.role }, password: pass };
}

export async function createUserWithToken(
  ctx: AppContext,
  role: Role,
  email?: string,
): Promise<{ user: { id: string; email: string; role: Role }; token: string; password: string }> {
  const { user, password } = await createTestUser(ctx, role, email);
  const { token } = await createApiToken(ctx.db, user.id, 'test');
  return { user, token, password };
}

/** The value of `name` among the Set-Cookie headers of a response. */
export function cookieFrom(response: Response, name: string): string | undefined {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    if (pair!.slice(0, eq).trim() === name) return pair!.slice(eq + 1);
  }
  return undefined;
}

/** The `_csrf` hidden field of an HTML page. */
export function csrfFrom(page: string): string {
  const match = /name="_csrf" value="([^"]*)"/.exec(page);
  if (!match?.[1]) throw new Error('no CSRF field in the page');
  return match[1];
}

export interface BrowserSession {
  /** Value for a `cookie` request header. */
  cookie: string;
  /** CSRF token for forms (`_csrf`) or the `x-csrf-token` header. */
  csrf: string;
}

/** Signs in through GET/POST /login like a browser would. */
export async function loginSession(baseUrl: string, email: string, password: string): Promise<BrowserSession> {
  const form = await fetch(`${baseUrl}/login`);
  const pre = cookieFrom(form, 'amap_csrf');
  const preToken = csrfFrom(await form.text());
  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `amap_csrf=${pre}` },
    body: new URLSearchParams({ email, password, _csrf: preToken }).toString(),
  });
  const session = cookieFrom(response, 'amap_session');
  if (response.status !== 303 || !session) throw new Error(`login failed with status ${response.status}`);
  const cookie = `amap_session=${session}`;
  const admin = await fetch(`${baseUrl}/admin`, { headers: { cookie } });
  return { cookie, csrf: csrfFrom(await admin.text()) };
}
