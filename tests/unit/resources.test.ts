import { describe, expect, it } from 'vitest';
import { AppError } from '../../server/core/errors.ts';
import { creditLine, LICENCE_CODES, LICENCES, licenceByUrl } from '../../server/resources/licences.ts';
import { publicHttpUrl } from '../../server/resources/resources.remote.ts';
import { checkHttpUrl, checkLicence, normaliseTags } from '../../server/resources/resources.service.ts';
import { foldAccents } from '../../server/resources/text.ts';

describe('licences', () => {
  it('is the fixed list, each with its legal text and a credit sentence in French and English', () => {
    expect(LICENCE_CODES).toEqual(['cc-by-4.0', 'cc-by-sa-4.0', 'cc-by-nc-sa-4.0', 'cc0-1.0', 'etalab-2.0', 'all-rights-reserved']);
    for (const l of LICENCES) {
      if (l.code === 'all-rights-reserved') expect(l.url).toBeNull();
      else expect(l.url).toMatch(/^https:\/\//);
      for (const locale of ['fr', 'en'] as const) {
        const line = creditLine(l.code, locale, { title: 'Guide', author: 'Réseau AURA' });
        expect(line).toContain('Guide');
        expect(line).toContain('Réseau AURA');
        expect(line).not.toMatch(/\{(title|author)\}/);
      }
    }
  });

  it('refuses an unknown licence naming the allowed ones', () => {
    const error = (() => {
      try {
        checkLicence('GPL');
      } catch (e) {
        return e as AppError;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(AppError);
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'Unknown licence "GPL": choose one of cc-by-4.0, cc-by-sa-4.0, cc-by-nc-sa-4.0, cc0-1.0, etalab-2.0, all-rights-reserved.',
    );
    expect(checkLicence('cc0-1.0')).toBe('cc0-1.0');
  });

  it('recognises a licence from its legal URL, tolerating http and a missing slash', () => {
    expect(licenceByUrl('http://creativecommons.org/licenses/by-sa/4.0')?.code).toBe('cc-by-sa-4.0');
    expect(licenceByUrl('https://example.org/licence')).toBeUndefined();
  });
});

describe('search text and inputs', () => {
  it('folds accents and ligatures the same way for the index and the query', () => {
    expect(foldAccents('Création des Œufs à l’été')).toBe('creation des oeufs a l’ete');
    expect(foldAccents('creation')).toBe(foldAccents('création'));
  });

  it('normalises tags and refuses too many or too long', () => {
    expect(normaliseTags(' Contrats, #Légumes ,contrats,, ')).toEqual(['contrats', 'légumes']);
    expect(() => normaliseTags(Array.from({ length: 16 }, (_, i) => `t${i}`))).toThrow(AppError);
    expect(() => normaliseTags(['x'.repeat(41)])).toThrow(AppError);
  });

  it('accepts only http(s) links, and refuses private addresses for remote content', () => {
    expect(checkHttpUrl('https://amap.org/a b', 'link')).toBe('https://amap.org/a%20b');
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'ftp://x.org/f', 'https://user:pw@x.org/', 'pas une adresse']) {
      expect(() => checkHttpUrl(bad, 'link')).toThrow(AppError);
    }
    const strict = { allowPrivate: false };
    expect(publicHttpUrl('https://amap-aura.org/f.pdf', 'file URL', strict)).toBe('https://amap-aura.org/f.pdf');
    for (const bad of [
      'http://localhost/x',
      'http://127.0.0.1:8080/x',
      'http://192.168.1.2/x',
      'http://[::1]/x',
      'http://[fd00::1]/x',
      'http://nas.local/x',
    ]) {
      expect(() => publicHttpUrl(bad, 'file URL', strict), bad).toThrow(/private address/);
    }
    expect(publicHttpUrl('http://127.0.0.1:8080/x', 'file URL', { allowPrivate: true })).toBe('http://127.0.0.1:8080/x');
  });
});
