// Every page, in a real browser against a real instance: answers 200, is French by default, has no
// serious or critical accessibility violation (axe-core), asks nothing of another origin, and, when
// public, shows its main content with JavaScript turned off.
//
// To check a new page, add it to PAGES (keep public pages before the ones that need a login: the
// list runs in order on one instance, and /setup is only there while no admin exists).
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUser } from '../helpers/accounts.ts';
import {
  checkAccessibility,
  javaScriptDisabled,
  launchBrowser,
  newContext,
  recordForeignRequests,
  signIn,
  skipBrowserTests,
} from '../helpers/browser.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';

export interface PageCase {
  path: string;
  /** Who looks at it: anyone, or a signed-in user of this role. */
  as: 'anonymous' | 'admin' | 'editor';
  /** Text the main content must contain (checked with and without JavaScript). */
  contains?: RegExp;
}

export const PAGES: PageCase[] = [
  { path: '/', as: 'anonymous' },
  { path: '/login', as: 'anonymous' },
  { path: '/setup', as: 'anonymous' },
  { path: '/announcements', as: 'anonymous' },
  { path: '/resources', as: 'anonymous' },
  { path: '/newsletter', as: 'anonymous' },
  { path: '/newsletters', as: 'anonymous' },
  { path: '/admin', as: 'admin' },
  { path: '/admin/tokens', as: 'admin' },
  { path: '/admin/users', as: 'admin' },
  { path: '/admin/announcements/new', as: 'editor' },
  { path: '/admin/resources', as: 'editor' },
  { path: '/admin/resources/new', as: 'editor' },
  { path: '/admin/federation', as: 'admin' },
  { path: '/admin/subscribers', as: 'editor' },
];

describe.skipIf(skipBrowserTests)('pages in a browser', () => {
  let instance: TestInstance;
  let browser: Browser;
  const sessions = new Map<string, BrowserContext>();

  beforeAll(async () => {
    [instance, browser] = await Promise.all([startTestInstance(), launchBrowser()]);
  });

  afterAll(async () => {
    for (const context of sessions.values()) await context.close().catch(() => {});
    await browser?.close();
    await instance?.destroy();
  });

  /** A browser context signed in through the login form, one per role, made on first use. */
  async function signedIn(role: 'admin' | 'editor'): Promise<BrowserContext> {
    const existing = sessions.get(role);
    if (existing) return existing;
    const { user, password } = await createTestUser(instance.ctx, role);
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, instance.url, user.email, password);
    await page.close();
    sessions.set(role, context);
    return context;
  }

  async function contextFor(page: PageCase): Promise<{ context: BrowserContext; temporary: boolean }> {
    if (page.as === 'anonymous') return { context: await newContext(browser), temporary: true };
    return { context: await signedIn(page.as), temporary: false };
  }

  for (const item of PAGES) {
    it(`${item.path} (${item.as}): 200, French, accessible, no request to another origin`, async () => {
      const { context, temporary } = await contextFor(item);
      try {
        const page = await context.newPage();
        const foreign = recordForeignRequests(page, instance.url);
        const response = await page.goto(`${instance.url}${item.path}`, { waitUntil: 'networkidle' });
        expect(response?.status(), `status of ${item.path}`).toBe(200);
        expect(new URL(page.url()).pathname, `${item.path} must not redirect`).toBe(item.path);
        expect(await page.getAttribute('html', 'lang')).toBe('fr');
        await expect(page.locator('main').textContent()).resolves.toMatch(item.contains ?? /\S/);
        expect(await checkAccessibility(page)).toEqual([]);
        expect(foreign).toEqual([]);
        await page.close();
      } finally {
        if (temporary) await context.close();
      }
    });

    if (item.as === 'anonymous') {
      it(`${item.path} shows its main content with JavaScript disabled`, async () => {
        const context = await newContext(browser, javaScriptDisabled);
        try {
          const page = await context.newPage();
          const response = await page.goto(`${instance.url}${item.path}`);
          expect(response?.status()).toBe(200);
          await expect(page.locator('main h1').first().isVisible()).resolves.toBe(true);
          await expect(page.locator('main').textContent()).resolves.toMatch(item.contains ?? /\S/);
          // No <noscript> fallback doing the work: the content is the page itself.
          expect(await page.locator('main noscript').count()).toBe(0);
        } finally {
          await context.close();
        }
      });
    }
  }

  it('has checks that do fail on a bad page (the checks themselves are checked)', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const foreign = recordForeignRequests(page, instance.url);
      await page.goto(`${instance.url}/healthz`);
      // An image without text alternative, a form field without label, and a request to another origin.
      await page.setContent('<html><body><img src="http://127.0.0.2:9/x.png"><input type="text"></body></html>');
      await page.waitForLoadState('networkidle');
      const ids = (await checkAccessibility(page)).map((v) => v.id);
      expect(ids).toEqual(expect.arrayContaining(['image-alt', 'label', 'html-has-lang']));
      expect(foreign).toEqual(['http://127.0.0.2:9/x.png']);
    } finally {
      await context.close();
    }
  });

  it('switches between French and English with /lang/en and /lang/fr', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${instance.url}/`);
      expect(await page.getAttribute('html', 'lang')).toBe('fr');
      await page.getByRole('link', { name: 'English' }).click();
      await page.waitForLoadState();
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      // The choice is remembered on the next page.
      await page.goto(`${instance.url}/login`);
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      await page.goto(`${instance.url}/lang/fr`);
      expect(await page.getAttribute('html', 'lang')).toBe('fr');
    } finally {
      await context.close();
    }
  });
});
