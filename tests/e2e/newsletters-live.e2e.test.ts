// The send's progress on the admin page, in a real Chromium signed in as an editor: the
// figures change while the issue is being sent, without reloading, through the WebSocket topic
// (web/newsletter-progress.js: the API is polled only when the socket fails, and it was not), and
// the status reads "envoyée" at the end.

import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUser } from '../helpers/accounts.ts';
import { launchBrowser, newContext, signIn, skipBrowserTests } from '../helpers/browser.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { seedSubscribers } from '../helpers/newsletter-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

describe.skipIf(skipBrowserTests)('newsletter progress in a browser', () => {
  let sink: SmtpSink;
  let instance: TestInstance;
  let browser: Browser;

  beforeAll(async () => {
    sink = await startSmtpSink();
    [instance, browser] = await Promise.all([startTestInstance({ SMTP_URL: sink.url }), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await instance?.destroy();
    await sink?.close();
  });

  it('updates the figures live while sending, without reloading', async () => {
    const { user, password } = await createTestUser(instance.ctx, 'editor');
    const context = await newContext(browser);
    const page = await context.newPage();
    await signIn(page, instance.url, user.email, password);
    await seedSubscribers(instance.ctx, 400, { prefix: 'navigateur' });
    await page.goto(`${instance.url}/admin/newsletters/new`);
    await page.fill('#f-subject', 'Suivi en direct');
    await page.fill('#f-intro', 'Des nouvelles du réseau.');
    await page.click('form[action="/admin/newsletters"] button[type=submit]');
    await page.waitForURL(/\/admin\/newsletters\/[0-9a-f-]{36}$/);
    sink.behaviour.delayMs = 40; // 400 messages: several seconds, time to watch them go
    try {
      await page.click('form[action$="/send"] button[type=submit]');
      await page.waitForURL(/\/admin\/newsletters\/[0-9a-f-]{36}\/send$/);
      const url = page.url();
      expect(await page.locator('[role=alert]').count()).toBe(0);
      const polls: string[] = [];
      page.on('request', (request) => {
        if (request.url().includes('/api/v1/newsletters/')) polls.push(request.url());
      });
      const navigations: string[] = [];
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations.push(frame.url());
      });
      const seen = new Set<string>();
      await expect
        .poll(
          async () => {
            seen.add((await page.textContent('[data-k=sent]')) ?? '');
            return page.textContent('[data-k=status]');
          },
          { timeout: 60_000, interval: 50 },
        )
        .toBe('envoyée');
      expect(await page.textContent('[data-k=sent]')).toBe('400');
      expect(seen.size).toBeGreaterThan(1); // the figure moved on the page, more than once
      expect(navigations).toEqual([]); // never reloaded
      expect(polls).toEqual([]); // through the WebSocket: the API was never polled
      expect(page.url()).toBe(url);
    } finally {
      sink.behaviour = {};
      await context.close();
    }
  }, 120_000);
});
