// First run: the setup code printed in the log creates the first admin, once.
import fs from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { type RunningInstance, startInstance } from '../../server/instance.ts';
import { cookieFrom, csrfFrom } from '../helpers/accounts.ts';
import { createPostgresDatabase, usingPostgres } from '../helpers/database.ts';
import { testEnv } from '../helpers/instance.ts';

let instance: RunningInstance;
let base: string;
let drop: (() => Promise<void>) | undefined;
let dataDir: string | undefined;
const lines: string[] = [];

beforeAll(async () => {
  const env = await testEnv();
  if (usingPostgres()) {
    const created = await createPostgresDatabase();
    env.DATABASE_URL = created.url;
    drop = created.drop;
  }
  dataDir = env.DATA_DIR;
  const config = loadConfig(env);
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  instance = await startInstance(config, { logger: pino({ level: 'warn' }, sink) });
  base = instance.url!;
});
afterAll(async () => {
  await instance?.stop();
  await drop?.();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const FORM = 'application/x-www-form-urlencoded';

async function postSetup(values: Record<string, string>): Promise<Response> {
  const page = await fetch(`${base}/setup`);
  const cookie = `amap_csrf=${cookieFrom(page, 'amap_csrf')}`;
  const _csrf = csrfFrom(await page.text());
  return fetch(`${base}/setup`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM, cookie },
    body: new URLSearchParams({ ...values, _csrf }).toString(),
  });
}

describe(`first-run setup (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('prints a code in the log; a wrong code is refused; the right one creates the admin, once', async () => {
    const logLine = lines.find((l) => l.includes('setup code'));
    expect(logLine).toBeDefined();
    expect(logLine).toContain(`${base}/setup`);
    const code = /setup code ([A-Z0-9-]+)/.exec(logLine!)![1]!;
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);

    const home = await (await fetch(`${base}/`)).text();
    expect(home).toContain('href="/setup"');
    expect(await (await fetch(`${base}/login`)).text()).toContain('href="/setup"');

    const values = {
      email: 'Admin@Example.org',
      displayName: 'Camille',
      password: 'a good long password',
      password2: 'a good long password',
    };
    const wrong = await postSetup({ ...values, code: 'AAAA-BBBB-CCCC' });
    expect(wrong.status).toBe(403);
    const wrongPage = await wrong.text();
    expect(wrongPage).toContain('role="alert"');
    expect(wrongPage).toContain('value="Admin@Example.org"');

    const mismatch = await postSetup({ ...values, password2: 'something else entirely', code });
    expect(mismatch.status).toBe(400);

    // Typed in lower case with spaces: still accepted.
    const ok = await postSetup({ ...values, code: code.toLowerCase().replaceAll('-', ' ') });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/admin');
    const session = cookieFrom(ok, 'amap_session');
    const admin = await fetch(`${base}/admin`, { headers: { cookie: `amap_session=${session}` } });
    expect(admin.status).toBe(200);
    expect(await admin.text()).toContain('/admin/users');

    const codes = await instance.ctx.db.selectFrom('settings').select('key').where('key', 'like', 'setup_code:%').execute();
    expect(codes).toHaveLength(0);
    expect((await fetch(`${base}/setup`)).status).toBe(410);
    const again = await fetch(`${base}/setup`, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: new URLSearchParams({ ...values, code }).toString(),
    });
    expect(again.status).toBeGreaterThanOrEqual(403);
    const admins = await instance.ctx.db.selectFrom('users').select('email').where('role', '=', 'admin').execute();
    expect(admins).toEqual([{ email: 'admin@example.org' }]);
    expect(await (await fetch(`${base}/`)).text()).not.toContain('href="/setup"');
  });
});
