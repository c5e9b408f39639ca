// /privacy: what this instance does with personal data, generated from its actual settings
// (sender, retention delays, mail server, limits), so that the page never drifts from reality.
import { Type } from 'typebox';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { getMailer } from '../mail/mailer.ts';
import { loadScheduleSettings, UNCONFIRMED_DAYS } from '../newsletters/newsletters.scheduler.ts';
import { html } from '../web/html.ts';
import { pageContext, sendPage } from '../web/layout.ts';
import { SUBSCRIBE_LIMIT_PER_ADDRESS, SUBSCRIBE_LIMIT_PER_IP } from './subscribers.rate-limit.ts';
import { CONSENT_VERSION, consentText } from './subscribers.service.ts';

export async function privacyPage(app: AppServer, ctx: AppContext): Promise<void> {
  app.get('/privacy', { schema: { response: { 200: Type.String() } } }, async (request, reply) => {
    const { locale } = pageContext(request, ctx);
    const sender = await getMailer(ctx).settings();
    const schedule = await loadScheduleSettings(ctx.db);
    const mailHost = ctx.config.smtpUrl ? new URL(ctx.config.smtpUrl).hostname : null;
    const contact = sender.replyTo ?? sender.fromAddress;
    const fr = locale === 'fr';
    return sendPage(reply, request, ctx, {
      title: fr ? 'Données personnelles' : 'Privacy',
      body: fr
        ? html`<h1>Données personnelles</h1>
<p>Ce site est celui de ${ctx.config.instanceName}. Il ne contient ni publicité, ni mesure d’audience, ni contenu chargé depuis un autre site.</p>
<h2>Lettre d’information</h2>
<ul>
<li>Nous gardons : votre adresse électronique, votre nom si vous le donnez, la langue, la fréquence et les sujets choisis, l’historique de vos consentements (texte accepté, version ${CONSENT_VERSION}, date, moyen) et la liste des lettres qui vous ont été envoyées.</li>
<li>Base légale : votre consentement, confirmé par un lien envoyé à l’adresse (double confirmation). Texte accepté : « ${consentText('fr', ctx.config.instanceName)} »</li>
<li>Une inscription non confirmée est effacée après ${UNCONFIRMED_DAYS} jours.</li>
<li>Après un désabonnement, vos données sont effacées après ${schedule.unsubscribedRetentionDays} jours ; seule une empreinte (SHA-256) de l’adresse est gardée, pour qu’une importation ne puisse pas vous réinscrire.</li>
<li>Chaque message contient un lien vers vos préférences, le désabonnement en un clic et la page « Mes données » : téléchargement de tout ce que nous gardons et effacement immédiat.</li>
<li>Les messages ne contiennent ni pixel espion ni lien de redirection : nous ne savons pas si vous les ouvrez ni sur quoi vous cliquez.</li>
<li>Expéditeur : ${sender.fromName} &lt;${sender.fromAddress}&gt;.${mailHost ? html` Les messages partent par le serveur de messagerie ${mailHost}.` : html` Les messages sont déposés dans un dossier du serveur, sans service tiers.`}</li>
<li>Pour éviter les abus, le formulaire compte les demandes (au plus ${SUBSCRIBE_LIMIT_PER_IP} par heure par adresse IP et ${SUBSCRIBE_LIMIT_PER_ADDRESS} par adresse électronique) sous forme d’empreintes effacées après 24 heures ; aucune adresse IP n’est enregistrée.</li>
</ul>
<h2>Contact</h2><p>Pour toute question : <a href="mailto:${contact}">${contact}</a>.</p>`
        : html`<h1>Privacy</h1>
<p>This is the site of ${ctx.config.instanceName}. It has no advertising, no audience measurement and loads nothing from other sites.</p>
<h2>Newsletter</h2>
<ul>
<li>We keep: your email address, your name if given, the language, frequency and topics you chose, the history of your consents (text agreed to, version ${CONSENT_VERSION}, date, how) and the list of newsletters sent to you.</li>
<li>Legal basis: your consent, confirmed by a link sent to the address (double opt-in). Text agreed to: “${consentText('en', ctx.config.instanceName)}”</li>
<li>An unconfirmed subscription is erased after ${UNCONFIRMED_DAYS} days.</li>
<li>After unsubscribing, your data is erased after ${schedule.unsubscribedRetentionDays} days; only a fingerprint (SHA-256) of the address is kept so that an import cannot subscribe you again.</li>
<li>Every message links to your preferences, one-click unsubscribe and the “My data” page: download of everything we keep, and immediate erasure.</li>
<li>Messages carry no tracking pixel and no redirected links: we do not know whether you open them or what you click.</li>
<li>Sender: ${sender.fromName} &lt;${sender.fromAddress}&gt;.${mailHost ? html` Messages leave through the mail server ${mailHost}.` : html` Messages are written to a folder on the server, with no third-party service.`}</li>
<li>Against abuse, the form counts requests (at most ${SUBSCRIBE_LIMIT_PER_IP} per hour per IP address and ${SUBSCRIBE_LIMIT_PER_ADDRESS} per email address) as fingerprints erased after 24 hours; no IP address is stored.</li>
</ul>
<h2>Contact</h2><p>Questions: <a href="mailto:${contact}">${contact}</a>.</p>`,
    });
  });
}
