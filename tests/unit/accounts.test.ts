import { describe, expect, it } from 'vitest';
import { sessionCsrfToken } from '../../server/accounts/csrf.ts';
import { safeNext } from '../../server/accounts/form.ts';
import { hasRole } from '../../server/accounts/guards.ts';
import { checkEmail, checkPassword, hashPassword, normaliseEmail, verifyPassword } from '../../server/accounts/passwords.ts';
import { ipBucket } from '../../server/accounts/rate-limit.ts';
import { safeEqual } from '../../server/accounts/secrets.ts';
import { cookieOptions } from '../../server/accounts/sessions.ts';
import { generateSetupCode, normaliseSetupCode } from '../../server/accounts/setup.ts';
import { onlyOptions, parseArgs, required } from '../../server/cli/args.ts';
import { CliError } from '../../server/cli/errors.ts';
import type { AppContext } from '../../server/core/context.ts';
import { AppError } from '../../server/core/errors.ts';

describe('passwords and emails', () => {
  it('hashes with argon2id and verifies only the right password', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash.startsWith('$argon2id$')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse batterY')).toBe(false);
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
  });

  it('requires at least 10 characters', () => {
    expect(() => checkPassword('123456789')).toThrow(AppError);
    expect(() => checkPassword('1234567890')).not.toThrow();
  });

  it('normalises and validates emails', () => {
    expect(normaliseEmail('  Jean.Dupont@AMAP.fr ')).toBe('jean.dupont@amap.fr');
    expect(() => checkEmail('jean.dupont@amap.fr')).not.toThrow();
    for (const bad of ['', 'jean', 'jean@', '@amap.fr', 'jean@amap', 'je an@amap.fr', `${'a'.repeat(250)}@amap.fr`]) {
      expect(() => checkEmail(bad), bad).toThrow(AppError);
    }
  });
});

describe('roles, redirects, CSRF tokens', () => {
  it('admin includes editor', () => {
    expect(hasRole({ role: 'admin' }, 'editor')).toBe(true);
    expect(hasRole({ role: 'admin' }, 'admin')).toBe(true);
    expect(hasRole({ role: 'editor' }, 'editor')).toBe(true);
    expect(hasRole({ role: 'editor' }, 'admin')).toBe(false);
    expect(hasRole(null, 'editor')).toBe(false);
  });

  it('goes back only to local paths after login', () => {
    expect(safeNext('/admin/tokens?x=1')).toBe('/admin/tokens?x=1');
    expect(safeNext('//evil.example/')).toBeUndefined();
    expect(safeNext('/\\evil.example')).toBeUndefined();
    expect(safeNext('https://evil.example/')).toBeUndefined();
    expect(safeNext(undefined)).toBeUndefined();
    // Browsers drop tabs and newlines in URLs and read "\\" as "/": each of these would become "//evil.example".
    for (const sneaky of [
      '/\t/evil.example',
      '/\n/evil.example',
      '/\r\n/evil.example',
      '/%09/x\\y',
      ' //evil.example',
      '/ /evil.example',
    ]) {
      expect(safeNext(sneaky), JSON.stringify(sneaky)).toBeUndefined();
    }
    expect(safeNext('/announcements/x?tag=amap%20bio#haut')).toBe('/announcements/x?tag=amap%20bio#haut');
  });

  it('counts login attempts per IPv4 address and per IPv6 /64 network', () => {
    expect(ipBucket('203.0.113.7')).toBe('203.0.113.7');
    expect(ipBucket('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(ipBucket('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:0db8:0001:0002::9')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipBucket('2001:db8:1:2:ffff::1')).toBe(ipBucket('2001:db8:1:2::abcd'));
    expect(ipBucket('2001:db8:1:3::1')).not.toBe(ipBucket('2001:db8:1:2::1'));
    expect(ipBucket('::1')).toBe('0:0:0:0::/64');
  });

  it('derives one CSRF token per session and secret', () => {
    const a = sessionCsrfToken('secret', 'session-a');
    expect(sessionCsrfToken('secret', 'session-a')).toBe(a);
    expect(sessionCsrfToken('secret', 'session-b')).not.toBe(a);
    expect(sessionCsrfToken('other', 'session-a')).not.toBe(a);
    expect(safeEqual(a, a)).toBe(true);
    expect(safeEqual(a, a.slice(1))).toBe(false);
  });
});

describe('setup code', () => {
  it('is three groups of four unambiguous characters, and typing variants are accepted', () => {
    const codes = new Set(Array.from({ length: 50 }, generateSetupCode));
    expect(codes.size).toBe(50);
    for (const code of codes) {
      expect(code).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
      expect(normaliseSetupCode(code.toLowerCase().replaceAll('-', ' '))).toBe(code);
    }
  });
});

describe('command-line arguments', () => {
  it('reads words and options', () => {
    const { words, options } = parseArgs(['user', 'add', '--email', 'a@b.org', '--role=admin']);
    expect(words).toEqual(['user', 'add']);
    expect(options.get('email')).toBe('a@b.org');
    expect(options.get('role')).toBe('admin');
    expect(() => required(options, 'name', 'Ann')).toThrow(/Missing --name/);
    expect(() => onlyOptions(options, ['email'])).toThrow(CliError);
    expect(() => parseArgs(['user', 'add', '--email'])).toThrow(/needs a value/);
    expect(parseArgs(['--help']).words).toEqual(['help']);
  });
});

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Lax, and Secure when the public URL is https', () => {
    const https = cookieOptions({ config: { publicUrl: 'https://amap-aura.org' } } as AppContext, 60);
    expect(https).toMatchObject({ httpOnly: true, sameSite: 'lax', path: '/', secure: true });
    expect(cookieOptions({ config: { publicUrl: 'http://localhost:3000' } } as AppContext, 60).secure).toBe(false);
  });
});
