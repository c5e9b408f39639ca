// The library in a real browser: the list (with a search and a filter), a resource page and the
// editors' add form have no serious accessibility violation, request nothing from another origin,
// and the public pages work with JavaScript off (search by submitting the form, filter by a link).
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
import { makeOdt, makePdf } from '../helpers/resources-fixtures.ts';

describe.skipIf(skipBrowserTests)('library pages in a browser', () => {
  let instance: TestInstance;
  let browser: Browser;
  let user: { email: string };
  let password: string;
  let resourceId: string;

  beforeAll(async () => {
    [instance, browser] = await Promise.all([startTestInstance(), launchBrowser()]);
    const created = await createUserWithToken(instance.ctx, 'editor');
    user = created.user;
    password = created.password;
    const form = new FormData();
    form.append('title', 'Modèle de contrat légumes');
    form.append('description', 'Un contrat **type** pour les AMAP, à adapter.');
    form.append('licence', 'cc-by-sa-4.0');
    form.append('tags', 'contrats, légumes');
    form.append('files', new Blob([new Uint8Array(makePdf())]), 'contrat.pdf');
    form.append('files', new Blob([new Uint8Array(makeOdt())]), 'contrat.odt');
    const response = await fetch(`${instance.url}/api/v1/resources`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.token}` },
      body: form,
    });
    resourceId = (await response.json()).id;
  });

  afterAll(async () => {
    await browser?.close();
    await instance?.destroy();
  });

  it('searches and filters without JavaScript', async () => {
    const context = await newContext(browser, javaScriptDisabled);
    try {
      const page = await context.newPage();
      const foreign = recordForeignRequests(page, instance.url);
      await page.goto(`${instance.url}/resources`);
      await page.getByLabel('Rechercher dans les ressources').fill('contrats');
      await Promise.all([page.waitForURL(/q=contrats/), page.getByRole('button', { name: 'Rechercher' }).click()]);
      await expect(page.getByRole('link', { name: 'Modèle de contrat légumes' }).count()).resolves.toBe(1);
      await Promise.all([page.waitForURL(/licence=cc-by-sa-4.0/), page.getByRole('link', { name: 'CC BY-SA 4.0' }).click()]);
      await Promise.all([
        page.waitForURL(/\/resources\/[0-9a-f-]{36}$/),
        page.getByRole('link', { name: 'Modèle de contrat légumes' }).click(),
      ]);
      await expect(page.getByRole('heading', { name: /Licence : CC BY-SA 4.0/ }).count()).resolves.toBe(1);
      expect(await page.textContent('main')).toContain('Comment créditer');
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the public pages pass axe', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      const foreign = recordForeignRequests(page, instance.url);
      for (const path of ['/resources', '/resources?q=contrats&licence=cc-by-sa-4.0', `/resources/${resourceId}`]) {
        const response = await page.goto(`${instance.url}${path}`);
        expect(response?.status(), path).toBe(200);
        expect(await checkAccessibility(page), path).toEqual([]);
      }
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the editors’ pages pass axe', async () => {
    const context = await newContext(browser);
    try {
      const page = await context.newPage();
      await signIn(page, instance.url, user.email, password);
      for (const path of ['/admin/resources', '/admin/resources/new', `/admin/resources/${resourceId}`]) {
        const response = await page.goto(`${instance.url}${path}`);
        expect(response?.status(), path).toBe(200);
        expect(await checkAccessibility(page), path).toEqual([]);
      }
    } finally {
      await context.close();
    }
  });
});
