import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config.ts';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has defaults that run a local instance on the embedded database', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.smtpUrl).toBeUndefined();
    expect(config.defaultLocale).toBe('fr');
    expect(config.federationAllowPrivate).toBe(false);
    expect(config.federationRelay).toBe(false);
    expect(config.role).toBe('all');
    expect(config.dataDir).toMatch(/\/data$/);
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://amap-aura.org/',
      DATA_DIR: '/var/lib/amap',
      DATABASE_URL: 'postgres://amap:secret@db:5432/amap',
      SMTP_URL: 'smtp://mail:25',
      INSTANCE_NAME: 'Réseau AMAP AURA',
      INSTANCE_HANDLE: 'aura',
      FEDERATION_ALLOW_PRIVATE: 'true',
      DEFAULT_LOCALE: 'en',
      PROCESS_ROLE: 'worker',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      publicUrl: 'https://amap-aura.org',
      dataDir: '/var/lib/amap',
      databaseUrl: 'postgres://amap:secret@db:5432/amap',
      smtpUrl: 'smtp://mail:25',
      instanceName: 'Réseau AMAP AURA',
      instanceHandle: 'aura',
      federationAllowPrivate: true,
      defaultLocale: 'en',
      role: 'worker',
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', /whole number/],
    [{ PORT: '70000' }, 'PORT', /0 to 65535/],
    [{ PUBLIC_URL: 'amap-aura.org' }, 'PUBLIC_URL', /public origin/],
    [{ PUBLIC_URL: 'ftp://amap-aura.org' }, 'PUBLIC_URL', /https:\/\//],
    [{ PUBLIC_URL: 'https://amap-aura.org/hub' }, 'PUBLIC_URL', /origin only/],
    [{ DATABASE_URL: 'mysql://x@y/z' }, 'DATABASE_URL', /postgres:\/\//],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', /must be a URL/],
    [{ SMTP_URL: 'http://mail' }, 'SMTP_URL', /smtp:\/\//],
    [{ INSTANCE_HANDLE: 'Réseau AURA' }, 'INSTANCE_HANDLE', /lower-case/],
    [{ FEDERATION_ALLOW_PRIVATE: 'maybe' }, 'FEDERATION_ALLOW_PRIVATE', /true or false/],
    [{ FEDERATION_RELAY: 'maybe' }, 'FEDERATION_RELAY', /true or false/],
    [{ DEFAULT_LOCALE: 'de' }, 'DEFAULT_LOCALE', /fr, en/],
    [{ PROCESS_ROLE: 'both' }, 'PROCESS_ROLE', /all, web, worker/],
  ])('rejects %o naming the variable', (env, variable, expected) => {
    const error = errorOf(env as Record<string, string>);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(variable)).toBe(true);
    expect(error.message).toMatch(expected);
  });

  it('never prints a database password', () => {
    const error = errorOf({ DATABASE_URL: 'mysql://amap:hunter2@db/amap' });
    expect(error.message).not.toContain('hunter2');
  });
});
