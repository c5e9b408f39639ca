// Accounts end to end over real HTTP: API tokens, roles, login, rate limit, sessions, CSRF.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    const good = await post({ name: 'c', _csrf: session.csrf });
    expect(good.status).toBe(201);
    expect(await good.text()).toMatch(/amap_[\w-]{40,}/);
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
});
