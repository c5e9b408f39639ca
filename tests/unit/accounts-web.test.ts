// The shared page pieces: the header (links added by capabilities, the logout form and its CSRF
// token), local redirect paths, and what the logger keeps out of the logs.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../server/core/logger.ts';
import { html } from '../../server/web/html.ts';
import { addNavLink, headerLinks, type PageContext, renderPage } from '../../server/web/layout.ts';
import { localPath } from '../../server/web/local-path.ts';

const base: PageContext = { locale: 'fr', instanceName: 'Réseau <test>', user: null, path: '/', csrf: '' };
const options = { title: 'Titre', body: html`<p>corps</p>` };

describe('layout', () => {
  it('adds capability links to the header once, by order, and marks the current one', () => {
    addNavLink({ href: '/zz-test-b', label: { fr: 'B', en: 'B' }, order: 900 });
    addNavLink({ href: '/zz-test-a', label: { fr: 'A', en: 'A (en)' }, order: 800 });
    addNavLink({ href: '/zz-test-a', label: { fr: 'A bis', en: 'A bis' }, order: 1 });
    const hrefs = headerLinks().map((l) => l.href);
    expect(hrefs.filter((h) => h === '/zz-test-a')).toHaveLength(1);
    expect(hrefs.indexOf('/zz-test-a')).toBeLessThan(hrefs.indexOf('/zz-test-b'));
    const page = renderPage({ ...base, locale: 'en', path: '/zz-test-a/42' }, options);
    expect(page).toContain('<a href="/zz-test-a" aria-current="page">A (en)</a>');
    expect(page).toContain('<a href="/zz-test-b">B</a>');
    expect(page.indexOf('/zz-test-a')).toBeLessThan(page.indexOf('/zz-test-b'));
    expect(page).toContain('Réseau &lt;test&gt;');
  });

  it('puts the session CSRF token in the logout form, and shows no logout form to a visitor', () => {
    const user = { displayName: null, email: 'e@example.org', role: 'editor' };
    const signedIn = renderPage({ ...base, user, csrf: 'tok"en' }, options);
    expect(signedIn).toMatch(/<form method="post" action="\/logout" class="inline"><input type="hidden" name="_csrf" value="tok&quot;en">/);
    expect(renderPage(base, options)).not.toContain('/logout');
    expect(renderPage(base, options)).toContain('<a href="/login">Se connecter</a>');
  });
});

describe('local redirect paths', () => {
  it('accepts paths of this site only', () => {
    expect(localPath('/')).toBe('/');
    expect(localPath('/admin?x=1#y')).toBe('/admin?x=1#y');
    for (const bad of [
      undefined,
      '',
      'admin',
      '//evil.example',
      '/\\evil.example',
      '/\t/evil.example',
      '/\n/x',
      '/a b',
      'https://evil.example/',
    ]) {
      expect(localPath(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });
});

describe('logger', () => {
  it('keeps emails, passwords, tokens and database error details out of the logs', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger({ logLevel: 'info' }, sink);
    const error = Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), {
      code: '23505',
      detail: 'Key (email)=(jeanne@example.org) already exists.',
    });
    log.error({ err: error, email: 'jeanne@example.org', user: { token: 'amap_secret' } }, 'unhandled error');
    const out = lines.join('');
    expect(out).toContain('users_email_key');
    expect(out).toContain('23505');
    expect(out).not.toContain('jeanne@example.org');
    expect(out).not.toContain('amap_secret');
  });
});
