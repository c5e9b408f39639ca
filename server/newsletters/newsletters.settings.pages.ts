// /admin/newsletters/settings (administrators): who the emails come from, how fast they go, the
// DKIM key, the look of the newsletter and where national news comes from. Everything is stored
// in `settings`; invalid values are dropped and the previous (or default) value kept.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { csrfField } from '../accounts/csrf.ts';
import { requireRole } from '../accounts/guards.ts';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { loadSenderSettings, saveSenderSettings } from '../mail/mail.settings.ts';
import { getMailer } from '../mail/mailer.ts';
import { html } from '../web/html.ts';
import { sendPage } from '../web/layout.ts';
import { loadAudienceSettings, saveAudienceSettings } from './audience.settings.ts';
import { loadBranding, saveBranding } from './branding.settings.ts';

const Body = Type.Object({
  fromName: Type.Optional(Type.String({ maxLength: 200 })),
  fromAddress: Type.Optional(Type.String({ maxLength: 320 })),
  replyTo: Type.Optional(Type.String({ maxLength: 320 })),
  ratePerSecond: Type.Optional(Type.String({ maxLength: 10 })),
  ratePerHour: Type.Optional(Type.String({ maxLength: 12 })),
  concurrency: Type.Optional(Type.String({ maxLength: 4 })),
  dkimDomain: Type.Optional(Type.String({ maxLength: 253 })),
  dkimSelector: Type.Optional(Type.String({ maxLength: 63 })),
  dkimKey: Type.Optional(Type.String({ maxLength: 10_000 })),
  dkimRemove: Type.Optional(Type.String()),
  logoUrl: Type.Optional(Type.String({ maxLength: 500 })),
  primaryColor: Type.Optional(Type.String({ maxLength: 7 })),
  textColor: Type.Optional(Type.String({ maxLength: 7 })),
  backgroundColor: Type.Optional(Type.String({ maxLength: 7 })),
  isNational: Type.Optional(Type.String()),
  nationalHandle: Type.Optional(Type.String({ maxLength: 300 })),
  _csrf: Type.Optional(Type.String()),
});

export async function newsletterSettingsPages(app: AppServer, ctx: AppContext): Promise<void> {
  const admin = requireRole('admin');

  async function page(request: FastifyRequest, reply: FastifyReply, saved: boolean) {
    const s = await loadSenderSettings(ctx.db, ctx.config);
    const b = await loadBranding(ctx.db);
    const a = await loadAudienceSettings(ctx.db);
    const input = (name: string, label: string, value: string | number | null, type = 'text') =>
      html`<label for="f-${name}">${label}</label><input id="f-${name}" name="${name}" type="${type}" value="${value ?? ''}">`;
    return sendPage(reply, request, ctx, {
      title: 'Réglages de la lettre',
      body: html`<h1>Réglages de la lettre</h1>
${saved ? html`<p role="status" class="notice">Réglages enregistrés (une valeur invalide garde la précédente).</p>` : ''}
<form method="post" action="/admin/newsletters/settings">${csrfField(request)}
<fieldset><legend>Expéditeur</legend>
${input('fromName', 'Nom de l’expéditeur', s.fromName)}
${input('fromAddress', 'Adresse de l’expéditeur', s.fromAddress, 'email')}
${input('replyTo', 'Adresse de réponse (facultative)', s.replyTo, 'email')}
</fieldset>
<fieldset><legend>Cadence (par processus d’envoi)</legend>
${input('ratePerSecond', 'Messages par seconde au plus', s.ratePerSecond, 'number')}
${input('ratePerHour', 'Messages par heure au plus (voir l’offre de votre hébergeur)', s.ratePerHour, 'number')}
${input('concurrency', 'Connexions simultanées au serveur de messagerie', s.concurrency, 'number')}
</fieldset>
<fieldset><legend>Signature DKIM ${s.dkim ? html`(configurée pour ${s.dkim.domainName}, sélecteur ${s.dkim.keySelector})` : '(aucune)'}</legend>
${input('dkimDomain', 'Domaine', s.dkim?.domainName ?? '')}
${input('dkimSelector', 'Sélecteur', s.dkim?.keySelector ?? '')}
<label for="f-dkimKey">Clé privée (PEM ; laissez vide pour garder l’actuelle)</label><textarea id="f-dkimKey" name="dkimKey" rows="4"></textarea>
<div><input type="checkbox" id="f-dkimRemove" name="dkimRemove" value="yes"> <label for="f-dkimRemove">Retirer la signature DKIM</label></div>
</fieldset>
<fieldset><legend>Apparence</legend>
${input('logoUrl', 'Adresse du logo (https, sur votre site)', b.logoUrl, 'url')}
${input('primaryColor', 'Couleur principale', b.primaryColor, 'color')}
${input('textColor', 'Couleur du texte', b.textColor, 'color')}
${input('backgroundColor', 'Couleur du fond', b.backgroundColor, 'color')}
</fieldset>
<fieldset><legend>Nouvelles nationales</legend>
<div><input type="checkbox" id="f-isNational" name="isNational" value="yes"${a.isNational ? html` checked` : ''}> <label for="f-isNational">Cette instance est celle du réseau national</label></div>
${input('nationalHandle', 'Sinon, l’identifiant du réseau national suivi (ex. national@amap-france.org)', a.nationalHandle)}
</fieldset>
<button type="submit">Enregistrer</button></form>`,
    });
  }

  app.get('/admin/newsletters/settings', { preHandler: admin, schema: { response: { 200: Type.String() } } }, async (request, reply) =>
    page(request, reply, false),
  );

  app.post('/admin/newsletters/settings', { preHandler: admin, schema: { body: Body } }, async (request, reply) => {
    const f = request.body;
    const num = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
    const current = await loadSenderSettings(ctx.db, ctx.config);
    const key = f.dkimKey?.trim();
    const dkim =
      f.dkimRemove === 'yes'
        ? null
        : f.dkimDomain && f.dkimSelector && (key || current.dkim)
          ? { domainName: f.dkimDomain.trim(), keySelector: f.dkimSelector.trim(), privateKey: key || current.dkim!.privateKey }
          : current.dkim;
    await saveSenderSettings(ctx.db, ctx.config, {
      ...(f.fromName !== undefined ? { fromName: f.fromName } : {}),
      ...(f.fromAddress ? { fromAddress: f.fromAddress.trim() } : {}),
      replyTo: f.replyTo?.trim() ? f.replyTo.trim() : null,
      ...(num(f.ratePerSecond) ? { ratePerSecond: num(f.ratePerSecond) } : {}),
      ...(num(f.ratePerHour) ? { ratePerHour: num(f.ratePerHour) } : {}),
      ...(num(f.concurrency) ? { concurrency: num(f.concurrency) } : {}),
      dkim,
    });
    await saveBranding(ctx.db, {
      logoUrl: f.logoUrl?.trim() ? f.logoUrl.trim() : null,
      ...(f.primaryColor ? { primaryColor: f.primaryColor } : {}),
      ...(f.textColor ? { textColor: f.textColor } : {}),
      ...(f.backgroundColor ? { backgroundColor: f.backgroundColor } : {}),
    });
    const audience = await loadAudienceSettings(ctx.db);
    await saveAudienceSettings(ctx.db, {
      ...audience,
      isNational: f.isNational === 'yes',
      nationalHandle: f.nationalHandle?.trim() ? f.nationalHandle.trim().replace(/^@/, '') : null,
    });
    getMailer(ctx).invalidate();
    return page(request, reply, true);
  });
}
