// A safe display name for an uploaded file. The name is only ever shown and sent back in
// Content-Disposition; it is never used as a path (files are stored by content hash).
const MAX_LENGTH = 150;

/** Strips folders, control and direction-override characters; keeps Unicode letters; never empty. */
export function safeFileName(given: string | undefined, fallback = 'fichier'): string {
  let name = (given ?? '').normalize('NFC');
  // Keep only the last part of a path, whichever separator the client's system used.
  name = name.split(/[/\\]/).pop() ?? '';
  name = name
    // Control characters, bidi overrides and other invisible format characters (a "gpj.exe" trick).
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
    // Characters that most systems refuse in a file name.
    .replace(/[<>:"|?*]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    // No hidden files and no "..": leading dots and spaces go.
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  if (name === '') return fallback;
  const chars = Array.from(name);
  if (chars.length > MAX_LENGTH) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : '';
    name = chars.slice(0, MAX_LENGTH - ext.length).join('') + ext;
  }
  return name;
}

/** Content-Disposition value with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 8187). */
export function contentDisposition(type: 'attachment' | 'inline', name: string): string {
  const ascii = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '_')
    .replace(/["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
