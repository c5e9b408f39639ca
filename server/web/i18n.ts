// French first, English too. Messages are keyed; a missing English message falls back to French.
// Capabilities add their messages with `addMessages` from their own *.messages.ts file.
import type { FastifyRequest } from 'fastify';
import type { Locale } from '../config.ts';

export type Messages = Record<string, string>;

const catalog: Record<Locale, Messages> = {
  fr: {
    'site.skip': 'Aller au contenu',
    'nav.home': 'Accueil',
    'nav.main': 'Navigation principale',
    'nav.admin': 'Administration',
    'nav.login': 'Se connecter',
    'nav.logout': 'Se déconnecter',
    'nav.language': 'Langue',
    'footer.about': 'Un réseau du mouvement des AMAP, sur un logiciel libre, sans publicité ni pistage.',
    'error.title': 'Erreur',
    'error.notFound': 'Cette page n’existe pas.',
    'error.gone': 'Cette page a été supprimée.',
    'error.rateLimited': 'Trop de demandes en peu de temps : attendez quelques minutes puis réessayez.',
    'error.unavailable': 'Le service est momentanément indisponible : réessayez dans quelques minutes.',
    'error.internal': 'Une erreur imprévue s’est produite de notre côté. Réessayez ; si cela recommence, prévenez l’équipe du réseau.',
    'error.generic': 'Cette demande n’a pas pu aboutir : revenez en arrière, vérifiez ce qui a été saisi et réessayez.',
  },
  en: {
    'site.skip': 'Skip to content',
    'nav.home': 'Home',
    'nav.main': 'Main navigation',
    'nav.admin': 'Administration',
    'nav.login': 'Sign in',
    'nav.logout': 'Sign out',
    'nav.language': 'Language',
    'footer.about': 'A network of the AMAP movement, on free software, with no advertising and no tracking.',
    'error.title': 'Error',
    'error.notFound': 'This page does not exist.',
    'error.gone': 'This page was deleted.',
    'error.rateLimited': 'Too many requests in a short time: wait a few minutes and try again.',
    'error.unavailable': 'The service is unavailable for a moment: try again in a few minutes.',
    'error.internal': 'Something went wrong on our side. Try again; if it happens again, tell the network’s team.',
    'error.generic': 'This request could not be completed: go back, check what was entered and try again.',
  },
};

export function addMessages(messages: Record<Locale, Messages>): void {
  Object.assign(catalog.fr, messages.fr);
  Object.assign(catalog.en, messages.en);
}

/** The message for `key`, with {name} placeholders filled from `params`. */
export function t(locale: Locale, key: string, params: Record<string, string | number> = {}): string {
  const template = catalog[locale][key] ?? catalog.fr[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

export const LOCALES: readonly Locale[] = ['fr', 'en'];

/** The locale chosen by the `lang` cookie, else by Accept-Language, else the instance default. */
export function localeOf(request: FastifyRequest, fallback: Locale): Locale {
  const cookie = request.cookies?.lang;
  if (cookie === 'fr' || cookie === 'en') return cookie;
  const accept = request.headers['accept-language'];
  if (typeof accept === 'string') {
    for (const part of accept.split(',')) {
      const tag = part.trim().slice(0, 2).toLowerCase();
      if (tag === 'fr' || tag === 'en') return tag;
    }
  }
  return fallback;
}
