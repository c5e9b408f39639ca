// Announcements in a real browser: a new announcement appears on an open page without a reload
// (live feed), the pages pass axe-core and read without JavaScript, nothing is asked of another
// origin, and the editor's preview follows the typing.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithToken } from '../helpers/accounts.ts';
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

describe.skipIf(skipBrowserTests)('announcements in a browser', () => {
  let instance: TestInstance;
  let browser: Browser;
  let token: string;
  let email: string;
  let password: string;

  beforeAll(async () => {
    [instance, browser] = await Promise.all([startTestInstance(), launchBrowser()]);
    const editor = await createUserWithToken(instance.ctx, 'editor');
    ({ token, password } = editor);
    email = editor.user.email;
  });

  afterAll(async () => {
    await browser?.close();
    await instance?.destroy();
  });

  async function publish(title: string): Promise<string> {
    const response = await fetch(`${instance.url}/api/v1/announcements`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title, body: `Texte de **${title}**`, status: 'published', tags: ['amap'] }),
    });
    expect(response.status).toBe(201);
    return (await response.json()).id;
  }

  it('shows a new announcement on an open page, without reloading it', async () => {
    const first = await publish('Première annonce');
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const foreign = recordForeignRequests(page, instance.url);
      await page.goto(`${instance.url}/announcements`);
      await page.waitForFunction(() => document.documentElement.dataset.live === 'open');
      await page.evaluate(() => {
        (window as unknown as { marker: number }).marker = 42;
      });
      const id = await publish('Annonce en direct');
      const item = page.locator(`ul[data-live-topic] li[data-id="${id}"]`);
      await item.waitFor({ timeout: 10_000 });
      expect(await item.textContent()).toContain('Annonce en direct');
      // The new one is on top, the older one still there, and the page was not reloaded.
      expect(await page.locator('ul[data-live-topic] > li').first().getAttribute('data-id')).toBe(id);
      expect(await page.locator(`li[data-id="${first}"]`).count()).toBe(1);
      expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
      expect(await checkAccessibility(page)).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('reads without JavaScript and passes axe-core: feed, announcement page, home', async () => {
    const id = await publish('Sans JavaScript');
    const withoutJs = await newContext(browser, javaScriptDisabled);
    const withJs = await newContext(browser);
    try {
      const plain = await withoutJs.newPage();
      const checked = await withJs.newPage();
      const foreign = recordForeignRequests(plain, instance.url);
      const foreignWithJs = recordForeignRequests(checked, instance.url);
      for (const path of [`/announcements/${id}`, '/announcements', '/']) {
        const response = await plain.goto(`${instance.url}${path}`);
        expect(response?.status()).toBe(200);
        expect(await plain.locator('main').textContent()).toContain('Sans JavaScript');
        // axe-core needs JavaScript: the same page is checked in a second context.
        await checked.goto(`${instance.url}${path}`);
        expect(await checkAccessibility(checked), path).toEqual([]);
      }
      expect(foreign).toEqual([]);
      expect(foreignWithJs).toEqual([]);
    } finally {
      await withoutJs.close();
      await withJs.close();
    }
  });

  it('gives the editor a preview that follows the typing', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await signIn(page, instance.url, email, password);
      await page.goto(`${instance.url}/admin/announcements/new`);
      expect(await checkAccessibility(page)).toEqual([]);
      await page.locator('#f-body').fill('Un texte en **gras** <script>window.hacked = 1</script>');
      await page.locator('[data-preview] strong').waitFor({ timeout: 10_000 });
      expect(await page.locator('[data-preview]').innerHTML()).not.toContain('script');
      expect(await page.evaluate(() => (window as unknown as { hacked?: number }).hacked)).toBeUndefined();
      await page.locator('#f-title').fill('Écrite dans le navigateur');
      await Promise.all([page.waitForURL(/done=created/), page.locator('button[value=publish]').click()]);
      expect(await page.locator('main').textContent()).toContain('Écrite dans le navigateur');
    } finally {
      await context.close();
    }
  });
});
