// Text helpers of the library: Markdown descriptions made safe, and the accent folding applied to
// both the indexed text and the search query (so "creation" finds "création" and the reverse,
// on PGlite and PostgreSQL alike, without the unaccent extension).
// Markdown is rendered exactly as announcements are (same sanitizer policy).
export { renderMarkdown } from '../announcements/announcements.domain.ts';

/** Lower-case text without diacritics (é → e, œ → oe), for the search index and the query. */
export function foldAccents(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/œ/g, 'oe')
    .replace(/Œ/g, 'OE')
    .replace(/æ/g, 'ae')
    .replace(/Æ/g, 'AE')
    .toLowerCase();
}
