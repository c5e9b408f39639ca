// The fixed list of licences a resource may carry, with the legal text's address and a sentence
// telling a reader how to credit the work. A fixed list (rather than free text) lets readers filter
// by licence and lets other networks know exactly what they may do with a document.
import type { Locale } from '../config.ts';

export type LicenceCode = 'cc-by-4.0' | 'cc-by-sa-4.0' | 'cc-by-nc-sa-4.0' | 'cc0-1.0' | 'etalab-2.0' | 'all-rights-reserved';

export interface Licence {
  code: LicenceCode;
  name: string;
  /** The legal text; none for "all rights reserved". */
  url: string | null;
  /** How to credit, with {title} and {author} filled in. */
  credit: Record<Locale, string>;
  /** What a reader may do, in one line. */
  allows: Record<Locale, string>;
}

export const LICENCES: readonly Licence[] = [
  {
    code: 'cc-by-4.0',
    name: 'CC BY 4.0',
    url: 'https://creativecommons.org/licenses/by/4.0/',
    credit: {
      fr: '« {title} », {author}, sous licence CC BY 4.0. Citez l’auteur, le titre et la licence, et indiquez si vous avez modifié le document.',
      en: '“{title}” by {author}, licensed under CC BY 4.0. Credit the author, the title and the licence, and say whether you changed the document.',
    },
    allows: {
      fr: 'Vous pouvez copier, modifier et redistribuer, même à des fins commerciales, en citant l’auteur.',
      en: 'You may copy, adapt and share it, even commercially, if you credit the author.',
    },
  },
  {
    code: 'cc-by-sa-4.0',
    name: 'CC BY-SA 4.0',
    url: 'https://creativecommons.org/licenses/by-sa/4.0/',
    credit: {
      fr: '« {title} », {author}, sous licence CC BY-SA 4.0. Citez l’auteur et la licence ; partagez vos modifications sous la même licence.',
      en: '“{title}” by {author}, licensed under CC BY-SA 4.0. Credit the author and the licence; share your changes under the same licence.',
    },
    allows: {
      fr: 'Vous pouvez copier, modifier et redistribuer en citant l’auteur, à condition de partager sous la même licence.',
      en: 'You may copy, adapt and share it if you credit the author and share alike.',
    },
  },
  {
    code: 'cc-by-nc-sa-4.0',
    name: 'CC BY-NC-SA 4.0',
    url: 'https://creativecommons.org/licenses/by-nc-sa/4.0/',
    credit: {
      fr: '« {title} », {author}, sous licence CC BY-NC-SA 4.0. Citez l’auteur et la licence ; pas d’usage commercial ; partagez vos modifications sous la même licence.',
      en: '“{title}” by {author}, licensed under CC BY-NC-SA 4.0. Credit the author and the licence; no commercial use; share your changes under the same licence.',
    },
    allows: {
      fr: 'Vous pouvez copier et modifier sans usage commercial, en citant l’auteur et en partageant sous la même licence.',
      en: 'You may copy and adapt it for non-commercial use, crediting the author and sharing alike.',
    },
  },
  {
    code: 'cc0-1.0',
    name: 'CC0 1.0',
    url: 'https://creativecommons.org/publicdomain/zero/1.0/',
    credit: {
      fr: '« {title} », {author}, versé au domaine public (CC0 1.0). Aucune mention n’est exigée, mais citer la source est apprécié.',
      en: '“{title}” by {author}, dedicated to the public domain (CC0 1.0). No credit is required, but naming the source is appreciated.',
    },
    allows: {
      fr: 'Vous pouvez tout faire, sans condition.',
      en: 'You may do anything with it, with no condition.',
    },
  },
  {
    code: 'etalab-2.0',
    name: 'Licence Ouverte 2.0',
    url: 'https://www.etalab.gouv.fr/licence-ouverte-open-licence/',
    credit: {
      fr: '« {title} », {author}, sous Licence Ouverte 2.0 (Etalab). Mentionnez la source et la date de dernière mise à jour.',
      en: '“{title}” by {author}, under the Licence Ouverte 2.0 (Etalab Open Licence). Name the source and the date of its last update.',
    },
    allows: {
      fr: 'Vous pouvez réutiliser librement, même à des fins commerciales, en mentionnant la source.',
      en: 'You may reuse it freely, even commercially, if you name the source.',
    },
  },
  {
    code: 'all-rights-reserved',
    name: 'Tous droits réservés',
    url: null,
    credit: {
      fr: '« {title} », {author}, tous droits réservés. Demandez l’autorisation de l’auteur avant toute reprise.',
      en: '“{title}” by {author}, all rights reserved. Ask the author for permission before reusing it.',
    },
    allows: {
      fr: 'Consultation seulement : toute reprise demande l’accord de l’auteur.',
      en: 'For reading only: any reuse needs the author’s permission.',
    },
  },
];

export const LICENCE_CODES = LICENCES.map((l) => l.code);

export function findLicence(code: string): Licence | undefined {
  return LICENCES.find((l) => l.code === code);
}

export function licenceName(code: string, locale: Locale): string {
  if (code === 'all-rights-reserved') return locale === 'fr' ? 'Tous droits réservés' : 'All rights reserved';
  return findLicence(code)?.name ?? code;
}

/** The licence whose legal URL is `url` (for documents received from other networks). */
export function licenceByUrl(url: string): Licence | undefined {
  const normal = url
    .trim()
    .replace(/^http:/, 'https:')
    .replace(/\/?$/, '/');
  return LICENCES.find((l) => l.url !== null && l.url === normal);
}

export function creditLine(code: string, locale: Locale, work: { title: string; author: string }): string {
  const licence = findLicence(code) ?? findLicence('all-rights-reserved')!;
  return licence.credit[locale].replace('{title}', work.title).replace('{author}', work.author);
}
