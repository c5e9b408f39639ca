// The command line, run as a real child process: user add, token add, migrate, jobs dead, errors,
// and the refusal to open the embedded database while an instance holds it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, usingPostgres } from '../helpers/database.ts';
import { startTestInstance, tempDir } from '../helpers/instance.ts';

const NODE = path.resolve('node_modules/.bin/node');
const CLI = path.resolve('server/cli.ts');

let dataDir: string;
let databaseUrl: string | undefined;
let drop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  dataDir = tempDir('amap-cli-');
  if (usingPostgres()) {
    const created = await createPostgresDatabase();
    databaseUrl = created.url;
    drop = created.drop;
  }
});
afterAll(async () => {
  await drop?.();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], stdin = ''): Promise<Result> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe(`command line (${usingPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  it('migrate, user add, token add; the token works on the instance', async () => {
    const migrate = await cli(['migrate']);
    expect(migrate.stderr).toBe('');
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toMatch(/Applied \d+ migration/);

    const add = await cli(
      ['user', 'add', '--email', 'Volunteer@Example.org', '--role', 'admin', '--name', 'Dominique'],
      'a long enough password\n',
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('volunteer@example.org');

    const token = await cli(['token', 'add', '--email', 'volunteer@example.org']);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^amap_[\w-]{40,}\n$/);

    const dead = await cli(['jobs', 'dead']);
    expect(dead.code).toBe(0);
    expect(dead.stdout).toContain('No dead-lettered jobs.');

    const env: Record<string, string> = { DATA_DIR: dataDir };
    if (databaseUrl) env.DATABASE_URL = databaseUrl;
    const instance = await startTestInstance(env);
    try {
      const me = await fetch(`${instance.url}/api/v1/me`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ email: 'volunteer@example.org', role: 'admin', displayName: 'Dominique' });
      // An admin exists: no setup page.
      expect((await fetch(`${instance.url}/setup`)).status).toBe(410);

      if (usingPostgres()) {
        // PostgreSQL is shared: the command line works beside the running instance.
        const beside = await cli(['token', 'add', '--email', 'volunteer@example.org', '--name', 'second']);
        expect(beside.code).toBe(0);
        const ok = await fetch(`${instance.url}/api/v1/me`, { headers: { authorization: `Bearer ${beside.stdout.trim()}` } });
        expect(ok.status).toBe(200);
      } else {
        // The embedded database belongs to the running instance: refuse, and say what to do.
        const refused = await cli(['token', 'add', '--email', 'volunteer@example.org']);
        expect(refused.code).toBe(1);
        expect(refused.stdout).toBe('');
        expect(refused.stderr).toMatch(/^Error: The embedded database .* is in use by another process .*stop it first/);
        const refusedMigrate = await cli(['migrate']);
        expect(refusedMigrate.code).toBe(1);
        expect(refusedMigrate.stderr).toContain('stop it first');
      }
      // A job that failed for good, as the queue leaves it: in `<queue>.dead`.
      await instance.ctx.queue.boss.createQueue('cli-test.dead');
      await instance.ctx.queue.boss.send('cli-test.dead', { hello: 'world' });
    } finally {
      await instance.stop();
    }
    const listed = await cli(['jobs', 'dead', '--queue', 'cli-test']);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^cli-test\t[\w-]+\t\d{4}-\d\d-\d\dT[^\t]+\t\{"hello":"world"\}\n$/);
  }, 240_000); // each run starts a process that opens the database: slow on a busy machine

  it('clear errors: unknown command, missing --email, bad role, short password, duplicate email', async () => {
    const cases: Array<[string[], string, RegExp]> = [
      [['frobnicate'], '', /Unknown command "frobnicate"/],
      [['user', 'add', '--role', 'admin'], 'a long enough password\n', /Missing --email/],
      [['user', 'add', '--email', 'x@example.org', '--role', 'boss'], 'a long enough password\n', /Unknown role "boss"/],
      [['user', 'add', '--email', 'x@example.org', '--role', 'editor'], 'short\n', /at least 10 characters/],
      [['user', 'add', '--email', 'volunteer@example.org', '--role', 'editor'], 'a long enough password\n', /already exists/],
      [['token', 'add', '--email', 'nobody@example.org'], '', /No account has the email address nobody@example.org/],
    ];
    for (const [args, stdin, message] of cases) {
      const result = await cli(args, stdin);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('user add --email E --role admin|editor');
  }, 180_000);
});
