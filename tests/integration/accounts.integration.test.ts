// Accounts end to end over real HTTP: API tokens, roles, login, rate limit, sessions, CSRF.
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countLoginAttempt, LOGIN_LIMIT_PER_IP } from '../../server/accounts/rate-limit.ts';
import { cookieFrom, createTestUser, createUserWithToken, csrfFrom, loginSession } from '../helpers/accounts.ts';
import { usingPostgres } from '../helpers/database.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';

let instance: TestInstance;
let base: string;

beforeAll(async () => {
  instance = await startTestInstance();
  base = instance.url;
});
afterAll(async () => {
  await instance?.destroy();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const form = (values: Record<string, string>) => new URLSearchParams(values).toString();
const FORM = 'application/x-www-form-urlencoded';

async function loginForm(): Promise<{ cookie: string; csrf: string }> {
  const page = await fetch(`${base}/login`);
  return { cookie: `amap_csrf=${cookieFrom(page, 'amap_csrf')}`, csrf: csrfFrom(await page.text()) };
}

async function postLogin(email: string, password: string): Promise<Response> {
  const { cookie, csrf } = await loginForm();
  return fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, cookie },
    body: form({ email, password, _csrf: csrf }),
  });
}

describe(`accounts (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('API tokens: missing, unknown, valid, revoked', async () => {
    const { user, token } = await createUserWithToken(instance.ctx, 'editor');
    const missing = await fetch(`${base}/api/v1/me`);
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.code).toBe('unauthorized');

    const unknown = await fetch(`${base}/api/v1/me`, { headers: bearer('amap_not-a-real-token') });
    expect(unknown.status).toBe(401);
    expect((await unknown.json()).error.message).toMatch(/not valid/);

    const me = await fetch(`${base}/api/v1/me`, { headers: bearer(token) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: user.id, email: user.email, role: 'editor' });

    // A second token, created through the API (no CSRF token needed with Bearer).
    const created = await fetch(`${base}/api/v1/tokens`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'script' }),
    });
    expect(created.status).toBe(201);
    const second = await created.json();
    expect(second.token).toMatch(/^amap_/);
    expect(second.prefix).toBe(second.token.slice(0, 12));

    const list = await (await fetch(`${base}/api/v1/tokens`, { headers: bearer(second.token) })).json();
    expect(list).toHaveLength(2);
    expect(JSON.stringify(list)).not.toContain(second.token);

    const revoke = await fetch(`${base}/api/v1/tokens/${second.id}`, { method: 'DELETE', headers: bearer(token) });
    expect(revoke.status).toBe(204);
    const revoked = await fetch(`${base}/api/v1/me`, { headers: bearer(second.token) });
    expect(revoked.status).toBe(401);
    expect((await revoked.json()).error.message).toMatch(/revoked/);
    // Even on a public page, a bad token is refused rather than ignored.
    expect((await fetch(`${base}/`, { headers: bearer(second.token) })).status).toBe(401);
  });

  it('roles: an editor may not use admin routes; an admin may add accounts', async () => {
    const editor = await createUserWithToken(instance.ctx, 'editor');
    const admin = await createUserWithToken(instance.ctx, 'admin');
    expect((await fetch(`${base}/api/v1/users`, { headers: bearer(editor.token) })).status).toBe(403);
    const body = JSON.stringify({ email: '  New.Person@Example.org ', role: 'editor', password: 'long enough password' });
    const headers = { ...bearer(admin.token), 'content-type': 'application/json' };
    const added = await fetch(`${base}/api/v1/users`, { method: 'POST', headers, body });
    expect(added.status).toBe(201);
    expect((await added.json()).email).toBe('new.person@example.org');
    expect((await fetch(`${base}/api/v1/users`, { method: 'POST', headers, body })).status).toBe(409);
    const short = JSON.stringify({ email: 'other@example.org', role: 'editor', password: 'short' });
    expect((await fetch(`${base}/api/v1/users`, { method: 'POST', headers, body: short })).status).toBe(400);
    const users = await (await fetch(`${base}/api/v1/users`, { headers: bearer(admin.token) })).json();
    expect(users.map((u: { email: string }) => u.email)).toContain('new.person@example.org');
  });

  it('login: right password signs in; wrong password and unknown user get the same answer', async () => {
    const { user, password } = await createTestUser(instance.ctx, 'editor');
    const ok = await postLogin(user.email.toUpperCase(), password);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/admin');
    const setCookie = ok.headers.getSetCookie().find((c) => c.startsWith('amap_session='))!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);

    const wrong = await postLogin(user.email, 'not the password');
    const unknown = await postLogin('nobody@example.org', 'not the password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const wrongPage = await wrong.text();
    const unknownPage = await unknown.text();
    expect(wrongPage).toContain('role="alert"');
    expect(wrongPage).toContain('Adresse e-mail ou mot de passe incorrect.');
    expect(unknownPage).toContain('Adresse e-mail ou mot de passe incorrect.');
    expect(wrongPage).toContain(`value="${user.email}"`);
    expect(cookieFrom(wrong, 'amap_session')).toBeUndefined();
  });

  it('login is rate-limited per email address (429, clear message)', async () => {
    const { user, password } = await createTestUser(instance.ctx, 'editor');
    for (let i = 0; i < 10; i++) expect((await postLogin(user.email, 'wrong password')).status).toBe(401);
    const limited = await postLogin(user.email, password);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited.text()).toContain('Trop de tentatives');
    const rows = await instance.ctx.db.selectFrom('rate_limits').select('key').execute();
    expect(JSON.stringify(rows)).not.toContain(user.email);
  });

  it('login is rate-limited per IP address too, whatever the email', async () => {
    const ip = '192.0.2.77';
    for (let i = 0; i < LOGIN_LIMIT_PER_IP; i++) await countLoginAttempt(instance.ctx, ip, `person${i}@example.org`);
    await expect(countLoginAttempt(instance.ctx, ip, 'someone-else@example.org')).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(countLoginAttempt(instance.ctx, '192.0.2.78', 'someone-else@example.org')).resolves.toBeUndefined();
  });

  it('sessions slide: a session seen over an hour ago is extended to 30 days', async () => {
    const { user, password } = await createTestUser(instance.ctx, 'editor');
    const session = await loginSession(base, user.email, password);
    const inADay = new Date(Date.now() + 24 * 3600 * 1000);
    await instance.ctx.db
      .updateTable('sessions')
      .set({ last_seen_at: new Date(Date.now() - 2 * 3600 * 1000), expires_at: inADay })
      .where('user_id', '=', user.id)
      .execute();
    const me = await fetch(`${base}/api/v1/me`, { headers: { cookie: session.cookie } });
    expect(me.status).toBe(200);
    expect(cookieFrom(me, 'amap_session')).toBe(session.cookie.split('=')[1]);
    const row = await instance.ctx.db.selectFrom('sessions').select('expires_at').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(row.expires_at.getTime()).toBeGreaterThan(Date.now() + 29 * 24 * 3600 * 1000);
  });

  it('sessions: an expired session is anonymous and the login page asks again; logout deletes it', async () => {
    const { user, password } = await createTestUser(instance.ctx, 'editor');
    const session = await loginSession(base, user.email, password);
    const me = await fetch(`${base}/api/v1/me`, { headers: { cookie: session.cookie } });
    expect(me.status).toBe(200);

    await instance.ctx.db
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .execute();
    expect((await fetch(`${base}/api/v1/me`, { headers: { cookie: session.cookie } })).status).toBe(401);
    const page = await fetch(`${base}/admin`, { headers: { cookie: session.cookie, accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login?next=%2Fadmin');

    // The layout's logout button carries no token: a same-origin request suffices, a cross-site one does not.
    const third = await loginSession(base, user.email, password);
    const crossSite = await fetch(`${base}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: third.cookie, origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await fetch(`${base}/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: third.cookie, origin: base } });
    expect(sameSite.status).toBe(303);
    expect((await fetch(`${base}/api/v1/me`, { headers: { cookie: third.cookie } })).status).toBe(401);

    const again = await loginSession(base, user.email, password);
    const out = await fetch(`${base}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: again.cookie, 'content-type': FORM },
      body: form({ _csrf: again.csrf }),
    });
    expect(out.status).toBe(303);
    expect((await fetch(`${base}/api/v1/me`, { headers: { cookie: again.cookie } })).status).toBe(401);
    const left = await instance.ctx.db
      .selectFrom('sessions')
      .select('id_hash')
      .where('user_id', '=', user.id)
      .where('expires_at', '>', new Date())
      .execute();
    expect(left).toHaveLength(0);
  });

  it('CSRF: a form post with a session needs the right token', async () => {
    const { user, password } = await createTestUser(instance.ctx, 'editor');
    const session = await loginSession(base, user.email, password);
    const post = (values: Record<string, string>) =>
      fetch(`${base}/admin/tokens`, { method: 'POST', headers: { cookie: session.cookie, 'content-type': FORM }, body: form(values) });

    const none = await post({ name: 'a' });
    expect(none.status).toBe(403);
    expect((await none.json()).error.code).toBe('csrf_failed');
    expect((await post({ name: 'b', _csrf: `${session.csrf.slice(0, -2)}00` })).status).toBe(403);
    const browser = await fetch(`${base}/admin/tokens`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': FORM, accept: 'text/html' },
      body: form({ name: 'x' }),
    });
    expect(browser.status).toBe(403);
    expect(await browser.text()).toContain('Ce formulaire a expiré');
    const good = await post({ name: 'c', _csrf: session.csrf });
    expect(good.status).toBe(201);
    const shown = /amap_[\w-]{40,}/.exec(await good.text())![0];
    expect((await fetch(`${base}/api/v1/me`, { headers: bearer(shown) })).status).toBe(200);
    // Shown once: the tokens page lists it by its prefix only.
    const listing = await (await fetch(`${base}/admin/tokens`, { headers: { cookie: session.cookie } })).text();
    expect(listing).toContain(shown.slice(0, 12));
    expect(listing).not.toContain(shown);
    const [made] = await (await fetch(`${base}/api/v1/tokens`, { headers: bearer(shown) })).json();
    const revoke = await fetch(`${base}/admin/tokens/${made.id}/revoke`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, 'content-type': FORM },
      body: form({ _csrf: session.csrf }),
    });
    expect(revoke.status).toBe(303);
    expect((await fetch(`${base}/api/v1/me`, { headers: bearer(shown) })).status).toBe(401);
    // The header works too (scripts).
    const viaHeader = await fetch(`${base}/api/v1/tokens`, {
      method: 'POST',
      headers: { cookie: session.cookie, 'content-type': 'application/json', 'x-csrf-token': session.csrf },
      body: JSON.stringify({ name: 'd' }),
    });
    expect(viaHeader.status).toBe(201);
    // The login form itself is protected: no pre-session cookie, or a wrong token → 403.
    const bare = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: form({ email: user.email, password }),
    });
    expect(bare.status).toBe(403);
    const { cookie } = await loginForm();
    const forged = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': FORM, cookie },
      body: form({ email: user.email, password, _csrf: 'forged' }),
    });
    expect(forged.status).toBe(403);
  });

  it('admin pages: editor sees the admin home but not team accounts; admin adds an account', async () => {
    const editor = await createTestUser(instance.ctx, 'editor');
    const es = await loginSession(base, editor.user.email, editor.password);
    const home = await (await fetch(`${base}/admin`, { headers: { cookie: es.cookie } })).text();
    expect(home).toContain('/admin/tokens');
    expect(home).not.toContain('/admin/users');
    expect((await fetch(`${base}/admin/users`, { headers: { cookie: es.cookie } })).status).toBe(403);
    // A browser gets a page saying why, in French first.
    const refusal = await fetch(`${base}/admin/users`, { headers: { cookie: es.cookie, accept: 'text/html' } });
    expect(refusal.status).toBe(403);
    expect(refusal.headers.get('content-type')).toContain('text/html');
    expect(await refusal.text()).toMatch(/role="alert">Votre compte ne permet pas/);

    const admin = await createTestUser(instance.ctx, 'admin');
    const as = await loginSession(base, admin.user.email, admin.password);
    const add = (values: Record<string, string>) =>
      fetch(`${base}/admin/users`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: as.cookie, 'content-type': FORM },
        body: form({ ...values, _csrf: as.csrf }),
      });
    const added = await add({ email: 'team@example.org', displayName: 'Équipe', role: 'editor', password: 'a long password' });
    expect(added.status).toBe(303);
    const duplicate = await add({ email: 'team@example.org', displayName: 'X', role: 'editor', password: 'a long password' });
    expect(duplicate.status).toBe(400);
    expect(await duplicate.text()).toContain('Un compte existe déjà');
    const list = await (await fetch(`${base}/admin/users`, { headers: { cookie: as.cookie } })).text();
    expect(list).toContain('team@example.org');
  });

  it('OpenAPI lists the accounts routes, tagged and secured', async () => {
    const spec = await (await fetch(`${base}/api/openapi.json`)).json();
    for (const p of ['/api/v1/me', '/api/v1/tokens', '/api/v1/tokens/{id}', '/api/v1/users']) expect(spec.paths[p]).toBeDefined();
    expect(spec.paths['/api/v1/me'].get.tags).toContain('accounts');
    expect(spec.paths['/api/v1/users'].post.security).toEqual([{ bearer: [] }]);
    expect(spec.paths['/login']).toBeUndefined();
  });

  it('language switch: sets the cookie and goes back on the same site only', async () => {
    const same = await fetch(`${base}/lang/en`, { redirect: 'manual', headers: { referer: `${base}/login?x=1` } });
    expect(same.status).toBe(303);
    expect(same.headers.get('location')).toBe('/login?x=1');
    expect(cookieFrom(same, 'lang')).toBe('en');
    const other = await fetch(`${base}/lang/fr`, { redirect: 'manual', headers: { referer: 'https://evil.example/x' } });
    expect(other.headers.get('location')).toBe('/');
    const english = await (await fetch(`${base}/login`, { headers: { cookie: 'lang=en' } })).text();
    expect(english).toContain('<html lang="en">');
    expect(english).toContain('Sign in');
  });
  it('layout: the logout form carries the session CSRF token; signed-in pages are not cached; pages refuse framing', async () => {
    const { user, password } = await createTestUser(instance.ctx, 'editor');
    const session = await loginSession(base, user.email, password);
    const page = await fetch(`${base}/`, { headers: { cookie: session.cookie } });
    const logoutForm = /<form method="post" action="\/logout"[^>]*>(.*?)<\/form>/s.exec(await page.text())?.[1] ?? '';
    expect(csrfFrom(logoutForm)).toBe(session.csrf);
    expect(page.headers.get('cache-control')).toBe('private, no-store');
    // What a browser sends when the button is pressed: the form's token, no Origin header needed.
    const out = await fetch(`${base}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, 'content-type': FORM },
      body: form({ _csrf: csrfFrom(logoutForm) }),
    });
    expect(out.status).toBe(303);
    expect((await fetch(`${base}/api/v1/me`, { headers: { cookie: session.cookie } })).status).toBe(401);

    const anonymous = await fetch(`${base}/login`);
    expect(anonymous.headers.get('cache-control')).toBeNull();
    expect(anonymous.headers.get('x-frame-options')).toBe('DENY');
    expect(anonymous.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = anonymous.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/unsafe-eval|\*/);
    // Scripts only from this site's files: an injected inline <script> never runs.
    expect(csp).toMatch(/script-src 'self'(;|$)/);
  });

  it('redirects: next= and the language switch never lead to another site', async () => {
    const { user, password } = await createTestUser(instance.ctx, 'editor');
    const session = await loginSession(base, user.email, password);
    // Signed in, /login goes straight to `next`: only when it is a path of this site.
    for (const sneaky of ['/\t/evil.example', '//evil.example', '/\\evil.example', 'https://evil.example/']) {
      const r = await fetch(`${base}/login?next=${encodeURIComponent(sneaky)}`, {
        redirect: 'manual',
        headers: { cookie: session.cookie },
      });
      expect(r.status, sneaky).toBe(303);
      expect(r.headers.get('location'), sneaky).toBe('/admin');
    }
    const good = await fetch(`${base}/login?next=${encodeURIComponent('/admin/tokens')}`, {
      redirect: 'manual',
      headers: { cookie: session.cookie },
    });
    expect(good.headers.get('location')).toBe('/admin/tokens');
    // A same-site Referer whose path starts with "//" would send the browser to another host.
    const doubled = await fetch(`${base}/lang/fr`, { redirect: 'manual', headers: { referer: `${base}//evil.example/x` } });
    expect(doubled.status).toBe(303);
    expect(doubled.headers.get('location')).toBe('/');
  });

  it('token ids that are not uuids are refused (400/404/414), never a database error', async () => {
    const { user, password } = await createTestUser(instance.ctx, 'editor');
    const session = await loginSession(base, user.email, password);
    const { token } = await createUserWithToken(instance.ctx, 'editor');
    for (const id of ['not-a-uuid', '------------------------------------', `urn:uuid:${crypto.randomUUID()}`, 'x'.repeat(300)]) {
      const api = await fetch(`${base}/api/v1/tokens/${encodeURIComponent(id)}`, { method: 'DELETE', headers: bearer(token) });
      expect([400, 404, 414], id).toContain(api.status);
      const page = await fetch(`${base}/admin/tokens/${encodeURIComponent(id)}/revoke`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: session.cookie, 'content-type': FORM },
        body: form({ _csrf: session.csrf }),
      });
      expect([400, 404, 414], id).toContain(page.status);
    }
    // Someone else's token is "not found" too.
    const other = await createUserWithToken(instance.ctx, 'editor');
    const [theirs] = await (await fetch(`${base}/api/v1/tokens`, { headers: bearer(other.token) })).json();
    expect((await fetch(`${base}/api/v1/tokens/${theirs.id}`, { method: 'DELETE', headers: bearer(token) })).status).toBe(404);
  });
  it('errors: a browser gets a page in its language, an API client JSON', async () => {
    const page = await fetch(`${base}/nowhere`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toContain('text/html');
    const text = await page.text();
    expect(text).toContain('<p role="alert">Cette page n’existe pas.</p>');
    expect(text).not.toContain('href="/admin"');
    const json = await fetch(`${base}/nowhere`);
    expect(json.status).toBe(404);
    expect((await json.json()).error.code).toBe('not_found');
    expect((await (await fetch(`${base}/api/v1/nowhere`, { headers: { accept: 'text/html' } })).json()).error.code).toBe('not_found');
    // A form value the schema refuses (too long), from a browser: a page, not JSON.
    const { cookie, csrf } = await loginForm();
    const invalid = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': FORM, cookie, accept: 'text/html', 'accept-language': 'en' },
      body: form({ email: 'x'.repeat(400), password: 'p', _csrf: csrf }),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toContain('This request could not be completed');
  });
});
