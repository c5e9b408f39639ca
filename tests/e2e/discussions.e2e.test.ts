// Discussions in a real browser against a real instance (real SMTP sink for the sign-in link):
// a member signs in by the emailed link, joins a group and posts; a second browser on the thread
// sees the reply appear without reloading; the pages read and work without JavaScript and pass
// axe-core; nothing is asked of another origin; a members-only group's thread is refused to an
// anonymous visitor over plain HTTP, and its live topic never carries its content.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { GroupRow } from '../../server/discussions/groups.repository.ts';
import { createGroup } from '../../server/discussions/groups.service.ts';
import { createMember, type MemberRow } from '../../server/discussions/members.repository.ts';
import { joinGroup } from '../../server/discussions/memberships.service.ts';
import { createLocalPost } from '../../server/discussions/posts.service.ts';
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
import { messagesTo, parseMail, type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

// A shared 2-core machine runs these slowly: each browser test gets more than the default minute.
const BROWSER_TEST_TIMEOUT = 180_000;

describe.skipIf(skipBrowserTests)('discussions in a browser', () => {
  let instance: TestInstance;
  let browser: Browser;
  let sink: SmtpSink;
  let open: GroupRow;
  let closed: GroupRow;

  beforeAll(async () => {
    sink = await startSmtpSink();
    [instance, browser] = await Promise.all([startTestInstance({ SMTP_URL: sink.url }), launchBrowser()]);
    const ctx = instance.ctx;
    [open, closed] = await ctx.db.transaction().execute(async (trx) => [
      await createGroup(ctx, trx, { name: 'Groupe RGPD', username: 'rgpd', summary: 'Le groupe de travail sur le RGPD.' }),
      await createGroup(ctx, trx, {
        name: 'Bureau du réseau',
        username: 'bureau',
        summary: 'Réservé au bureau.',
        visibility: 'members',
      }),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await instance?.destroy();
    await sink?.close();
  });

  /** The sign-in link of the latest email sent to `address`. */
  async function signInLink(address: string, count: number): Promise<string> {
    const until = Date.now() + 20_000;
    while (messagesTo(sink, address).length < count) {
      if (Date.now() > until) throw new Error(`no sign-in email for ${address}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const mail = await parseMail(messagesTo(sink, address)[count - 1]!);
    const link = /https?:\/\/\S+\/members\/sign-in\/[\w-]+(\?\S*)?/.exec(mail.text ?? '')?.[0];
    if (!link) throw new Error('no link in the sign-in email');
    return link;
  }

  /** Signs in as a member through the real pages: form, email, link, confirmation button. */
  async function memberSignIn(page: Page, address: string): Promise<void> {
    const before = messagesTo(sink, address).length;
    await page.goto(`${instance.url}/members/sign-in`);
    await page.locator('#f-email').fill(address);
    await Promise.all([page.waitForURL(/done=sent/), page.locator('main form button[type=submit]').click()]);
    expect(await page.locator('main [role=status]').textContent()).toContain('lien de connexion');
    const link = await signInLink(address, before + 1);
    await page.goto(link);
    expect(await page.locator('h1').textContent()).toContain('Confirmer la connexion');
    await Promise.all([page.waitForURL(/\/members\/me/), page.locator('main form button[type=submit]').click()]);
  }

  it(
    'lets a member sign in by link, join a group and post; a reply appears live on another page',
    async () => {
      const member = await newContext(browser);
      const watcher = await newContext(browser);
      try {
        const page = await member.newPage();
        const foreign = recordForeignRequests(page, instance.url);
        await memberSignIn(page, 'camille@example.org');
        expect(await page.locator('main h1').textContent()).toContain('Mon espace');
        expect(await checkAccessibility(page)).toEqual([]);

        // Opening the link again: it was used, so it only says so.
        const reused = await fetch(await signInLink('camille@example.org', 1), { headers: { accept: 'text/html' } });
        expect(reused.status).toBe(410);

        await page.goto(`${instance.url}/groups`);
        expect(await checkAccessibility(page)).toEqual([]);
        await Promise.all([page.waitForURL(/\/groups\/rgpd$/), page.getByRole('link', { name: 'Groupe RGPD' }).click()]);
        await Promise.all([page.waitForURL(/done=joined/), page.getByRole('button', { name: 'Rejoindre le groupe' }).click()]);
        expect(await page.locator('main [role=status]').textContent()).toContain('Vous avez rejoint le groupe');
        expect(await checkAccessibility(page)).toEqual([]);

        await page.locator('#f-title').fill('Registre des traitements');
        await page.locator('#f-body').fill('Qui a déjà un **modèle** de registre ? #rgpd');
        await Promise.all([
          page.waitForURL(/\/discussions\/posts\/[0-9a-f-]{36}\?done=posted/),
          page.getByRole('button', { name: 'Publier' }).click(),
        ]);
        const threadUrl = page.url().split('?')[0]!;
        expect(await page.locator('main h1').textContent()).toBe('Registre des traitements');
        expect(await page.locator('main .dp-content strong').textContent()).toBe('modèle');
        // The member's view of a thread: reply and report forms in each post.
        await page.locator('details.dp-report summary').first().click();
        expect(await checkAccessibility(page)).toEqual([]);

        // A second browser (anonymous) keeps the thread open, and the group page too.
        const other = await watcher.newPage();
        const otherForeign = recordForeignRequests(other, instance.url);
        await other.goto(threadUrl);
        await other.locator('[data-dp-live][data-live-state=open]').waitFor({ timeout: 20_000 });
        await other.evaluate(() => {
          (window as unknown as { marker: number }).marker = 7;
        });
        const groupPage = await watcher.newPage();
        await groupPage.goto(`${instance.url}/groups/rgpd`);
        await groupPage.locator('[data-dp-live][data-live-state=open]').waitFor({ timeout: 20_000 });

        await page.locator('details.dp-reply summary').first().click();
        await page.locator('details.dp-reply textarea').first().fill('Oui, je partage le nôtre demain.');
        await Promise.all([page.waitForURL(/done=replied/), page.getByRole('button', { name: 'Envoyer la réponse' }).first().click()]);

        const reply = other.locator('ol.dp-thread li.dp-item li.dp-item', { hasText: 'je partage le nôtre' });
        await reply.waitFor({ timeout: 20_000 });
        expect(await other.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(7);
        // Anonymous: the reply shows, with a link to sign in rather than a form.
        expect(await reply.locator('form').count()).toBe(0);
        expect(await checkAccessibility(other)).toEqual([]);
        // The group page moved the thread to the top, marked new, with its reply counted.
        const moved = groupPage.locator('ol.dg-threads > li.dp-new').first();
        await moved.waitFor({ timeout: 20_000 });
        expect(await moved.textContent()).toContain('1 réponse');
        expect(foreign).toEqual([]);
        expect(otherForeign).toEqual([]);
      } finally {
        await member.close();
        await watcher.close();
      }
    },
    BROWSER_TEST_TIMEOUT,
  );

  it(
    'reads and works without JavaScript, and passes axe-core: groups, thread, comments, sign-in, moderation',
    async () => {
      const ctx = instance.ctx;
      const editor = await createUserWithToken(ctx, 'admin');
      const created = await fetch(`${instance.url}/api/v1/announcements`, {
        method: 'POST',
        headers: { authorization: `Bearer ${editor.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'Assemblée générale', body: 'Rendez-vous **samedi**.', status: 'published' }),
      });
      expect(created.status).toBe(201);
      const announcementId = (await created.json()).id as string;
      const author = await ctx.db
        .transaction()
        .execute((trx) =>
          createMember(trx, { email: 'dominique@example.org', displayName: 'Dominique', instanceHandle: ctx.config.instanceHandle }),
        );
      await joinGroup(ctx, { member: author, groupId: open.id });
      const thread = await ctx.db.transaction().execute((trx) =>
        createLocalPost(ctx, trx, {
          member: author,
          groupId: open.id,
          title: 'Sans JavaScript',
          markdown: 'Un fil lisible sans script.',
        }),
      );

      const plain = await newContext(browser, javaScriptDisabled);
      const checked = await newContext(browser);
      try {
        const page = await plain.newPage();
        const axePage = await checked.newPage();
        const foreign = recordForeignRequests(page, instance.url);
        const cases: Array<[string, string]> = [
          ['/groups', 'Groupe RGPD'],
          ['/groups/rgpd', 'Sans JavaScript'],
          [`/discussions/posts/${thread.id}`, 'Un fil lisible sans script.'],
          ['/groups/bureau', 'Réservé au bureau.'],
          [`/announcements/${announcementId}`, 'Commentaires'],
          ['/members/sign-in', 'lien de connexion'],
        ];
        for (const [path, text] of cases) {
          const response = await page.goto(`${instance.url}${path}`);
          expect(response?.status(), path).toBe(200);
          expect(await page.locator('main').textContent(), path).toContain(text);
          await axePage.goto(`${instance.url}${path}`);
          expect(await checkAccessibility(axePage), path).toEqual([]);
        }

        // Staff comment under the announcement and reply in the thread with JavaScript off; an
        // anonymous reader with the announcement open sees the comment arrive.
        await axePage.goto(`${instance.url}/announcements/${announcementId}`);
        await axePage.locator('[data-dp-live][data-live-state=open]').waitFor({ timeout: 20_000 });
        await signIn(page, instance.url, editor.user.email, editor.password);
        await page.goto(`${instance.url}/announcements/${announcementId}`);
        await page.locator('#comment-body').fill('Je viendrai avec les paniers.');
        await Promise.all([page.waitForURL(/done=commented/), page.getByRole('button', { name: 'Publier le commentaire' }).click()]);
        expect(await page.locator('section.dc').textContent()).toContain('Je viendrai avec les paniers.');
        expect(await page.locator('section.dc [role=status]').textContent()).toContain('commentaire est publié');
        await axePage.locator('section.dc li.dp-item', { hasText: 'Je viendrai avec les paniers.' }).waitFor({ timeout: 20_000 });

        // Joining, then replying (details open by a click on the summary: no script involved).
        await page.goto(`${instance.url}/groups/rgpd`);
        await Promise.all([page.waitForURL(/done=joined/), page.getByRole('button', { name: 'Rejoindre le groupe' }).click()]);
        await page.goto(`${instance.url}/discussions/posts/${thread.id}`);
        await page.locator('details.dp-reply summary').first().click();
        await page.locator('details.dp-reply textarea').first().fill('Réponse envoyée sans JavaScript.');
        await Promise.all([page.waitForURL(/done=replied/), page.getByRole('button', { name: 'Envoyer la réponse' }).first().click()]);
        expect(await page.locator('main').textContent()).toContain('Réponse envoyée sans JavaScript.');

        // A report, then the moderation pages (the administrator sees it, removes the post with a reason).
        await page.locator('details.dp-report summary').first().click();
        await page.locator('details.dp-report textarea').first().fill('Hors sujet');
        await Promise.all([page.waitForURL(/done=reported/), page.getByRole('button', { name: 'Envoyer le signalement' }).first().click()]);
        await page.goto(`${instance.url}/moderation`);
        expect(await page.locator('main').textContent()).toContain('Hors sujet');
        await signIn(await checked.newPage(), instance.url, editor.user.email, editor.password);
        for (const path of ['/moderation', '/moderation/bans', '/moderation/log', '/members/me', '/admin/groups']) {
          await axePage.goto(`${instance.url}${path}`);
          expect(await checkAccessibility(axePage), path).toEqual([]);
        }
        await page.locator('form[action$="/remove"] input[name=reason]').first().fill('Message hors sujet');
        await Promise.all([page.waitForURL(/done=moderated/), page.getByRole('button', { name: 'Retirer le message' }).first().click()]);
        await page.goto(`${instance.url}/moderation/log`);
        expect(await page.locator('main table').textContent()).toContain('Message hors sujet');

        // Staff create a members-only group from the admin page, and moderate it from the start.
        await page.goto(`${instance.url}/admin/groups`);
        await page.locator('#f-name').fill('Groupe des paysans');
        await page.locator('#f-username').fill('paysans');
        await page.locator('#f-visibility-members').check();
        await Promise.all([page.waitForURL(/done=created/), page.getByRole('button', { name: 'Créer un groupe' }).click()]);
        expect(await page.locator('main [role=status]').textContent()).toContain('Le groupe est créé.');
        await page.goto(`${instance.url}/groups/paysans`);
        expect(await page.locator('main').textContent()).toContain('Vous modérez ce groupe.');
        expect(await page.locator('main').textContent()).toContain('Réservé aux membres');
        expect(foreign).toEqual([]);
      } finally {
        await plain.close();
        await checked.close();
      }
    },
    BROWSER_TEST_TIMEOUT,
  );

  it('never shows a members-only thread to an outsider, over HTTP and on the live feed', async () => {
    const ctx = instance.ctx;
    const insider: MemberRow = await ctx.db
      .transaction()
      .execute((trx) =>
        createMember(trx, { email: 'insider@example.org', displayName: 'Initiée', instanceHandle: ctx.config.instanceHandle }),
      );
    expect(await joinGroup(ctx, { member: insider, groupId: closed.id })).toBe('accepted');

    // A stranger follows the group's live topic: it may learn that something happened, no more.
    const url = new URL(`/live?topics=discussions.group.${closed.id}`, instance.url);
    url.protocol = 'ws:';
    const socket = new WebSocket(url);
    const received: string[] = [];
    socket.on('message', (data) => received.push(String(data)));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    try {
      const secret = await ctx.db.transaction().execute((trx) =>
        createLocalPost(ctx, trx, {
          member: insider,
          groupId: closed.id,
          title: 'Budget confidentiel',
          markdown: 'Le montant secret est 4242.',
        }),
      );
      const until = Date.now() + 10_000;
      while (received.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      expect(received.length).toBe(1);
      expect(JSON.parse(received[0]!)).toEqual({ topic: `discussions.group.${closed.id}`, data: { type: 'activity' } });

      for (const path of [
        `/discussions/posts/${secret.id}`,
        `/discussions/posts/${secret.id}/fragment`,
        `/discussions/posts/${secret.id}/fragment?view=summary`,
      ]) {
        const response = await fetch(`${instance.url}${path}`, { headers: { accept: 'text/html' } });
        expect(response.status, path).toBe(403);
        const text = await response.text();
        expect(text, path).not.toContain('4242');
        expect(text, path).not.toContain('Budget confidentiel');
      }
      const groupPage = await fetch(`${instance.url}/groups/bureau`, { headers: { accept: 'text/html' } });
      expect(groupPage.status).toBe(200);
      const groupText = await groupPage.text();
      expect(groupText).toContain('Réservé au bureau.');
      expect(groupText).not.toContain('Budget confidentiel');
      // A reply attempt by someone who is not a member is refused and shows nothing either.
      const reply = await fetch(`${instance.url}/discussions/posts/${secret.id}/replies`, {
        method: 'POST',
        headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'body=intrusion',
        redirect: 'manual',
      });
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(await reply.text()).not.toContain('4242');
    } finally {
      socket.close();
    }
  });
});
