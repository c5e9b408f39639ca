// The real type of a file, read from its content (magic bytes, zip table of contents, UTF-8
// validity) and never from its name. The name's extension must agree with the content: a PDF named
// ".docx" is refused with a sentence saying what it really is. HTML and SVG are refused outright:
// served from our origin they could run scripts in a reader's browser.
import { AppError } from '../core/errors.ts';
import type { ContentSample } from './storage.ts';
import { DEFAULT_ZIP_LIMITS, firstStoredEntry, readCentralDirectory, type ZipLimits, ZipRefused } from './zip.ts';

export type FileKind = 'pdf' | 'odt' | 'ods' | 'odp' | 'docx' | 'xlsx' | 'pptx' | 'png' | 'jpeg' | 'gif' | 'webp' | 'text';
export type FileCategory = 'document' | 'spreadsheet' | 'presentation' | 'image' | 'text';

export interface KindInfo {
  mediaType: string;
  extensions: readonly string[];
  category: FileCategory;
  label: { fr: string; en: string };
}

export const KINDS: Record<FileKind, KindInfo> = {
  pdf: { mediaType: 'application/pdf', extensions: ['pdf'], category: 'document', label: { fr: 'PDF', en: 'PDF' } },
  odt: {
    mediaType: 'application/vnd.oasis.opendocument.text',
    extensions: ['odt'],
    category: 'document',
    label: { fr: 'texte OpenDocument', en: 'OpenDocument text' },
  },
  ods: {
    mediaType: 'application/vnd.oasis.opendocument.spreadsheet',
    extensions: ['ods'],
    category: 'spreadsheet',
    label: { fr: 'tableur OpenDocument', en: 'OpenDocument spreadsheet' },
  },
  odp: {
    mediaType: 'application/vnd.oasis.opendocument.presentation',
    extensions: ['odp'],
    category: 'presentation',
    label: { fr: 'présentation OpenDocument', en: 'OpenDocument presentation' },
  },
  docx: {
    mediaType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    extensions: ['docx'],
    category: 'document',
    label: { fr: 'document Word', en: 'Word document' },
  },
  xlsx: {
    mediaType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    extensions: ['xlsx'],
    category: 'spreadsheet',
    label: { fr: 'classeur Excel', en: 'Excel workbook' },
  },
  pptx: {
    mediaType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    extensions: ['pptx'],
    category: 'presentation',
    label: { fr: 'présentation PowerPoint', en: 'PowerPoint presentation' },
  },
  png: { mediaType: 'image/png', extensions: ['png'], category: 'image', label: { fr: 'image PNG', en: 'PNG image' } },
  jpeg: { mediaType: 'image/jpeg', extensions: ['jpg', 'jpeg'], category: 'image', label: { fr: 'image JPEG', en: 'JPEG image' } },
  gif: { mediaType: 'image/gif', extensions: ['gif'], category: 'image', label: { fr: 'image GIF', en: 'GIF image' } },
  webp: { mediaType: 'image/webp', extensions: ['webp'], category: 'image', label: { fr: 'image WebP', en: 'WebP image' } },
  text: {
    mediaType: 'text/plain; charset=utf-8',
    extensions: ['txt', 'text', 'md', 'csv'],
    category: 'text',
    label: { fr: 'texte', en: 'plain text' },
  },
};

export const FILE_KINDS = Object.keys(KINDS) as FileKind[];
export const FILE_CATEGORIES: readonly FileCategory[] = ['document', 'spreadsheet', 'presentation', 'image', 'text'];

/** Names that browsers would render as active content: refused whatever the content is. */
const ACTIVE_EXTENSIONS = new Set(['html', 'htm', 'xhtml', 'xht', 'shtml', 'svg', 'svgz', 'xml', 'xsl', 'js', 'mjs', 'hta', 'swf']);

function refuse(message: string, reason: string, details: Record<string, unknown> = {}): AppError {
  return new AppError('unsupported_media_type', message, { reason, ...details });
}

function startsWith(buf: Buffer, bytes: number[] | string, at = 0): boolean {
  const expected = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
  return buf.length >= at + expected.length && buf.subarray(at, at + expected.length).equals(expected);
}

/** True when text looks like markup a browser would run (HTML, SVG, XML with scripts). */
export function looksLikeMarkup(head: Buffer): boolean {
  const start = head
    .toString('utf8', 0, Math.min(head.length, 4096))
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (/^<(!doctype|html|head|body|svg|\?xml|script|iframe|object|embed|meta|!--)/.test(start)) return true;
  return /<(script|svg|iframe)[\s>/]/i.test(head.toString('utf8'));
}

function zipKind(sample: ContentSample, limits: ZipLimits): FileKind {
  let entries: ReturnType<typeof readCentralDirectory>;
  try {
    entries = readCentralDirectory(sample.tail, sample.size, limits);
  } catch (error) {
    if (error instanceof ZipRefused) {
      throw new AppError('unsupported_media_type', `This archive is refused: ${error.message}`, {
        reason: error.reason === 'malformed' ? 'storage.error.badArchive' : 'storage.error.archiveBomb',
      });
    }
    throw error;
  }
  const names = new Set(entries.map((e) => e.name));
  const first = firstStoredEntry(sample.head);
  if (first?.name === 'mimetype') {
    if (first.content === KINDS.odt.mediaType) return 'odt';
    if (first.content === KINDS.ods.mediaType) return 'ods';
    if (first.content === KINDS.odp.mediaType) return 'odp';
  }
  if (names.has('[Content_Types].xml')) {
    if (names.has('word/document.xml')) return 'docx';
    if (names.has('xl/workbook.xml')) return 'xlsx';
    if (names.has('ppt/presentation.xml')) return 'pptx';
  }
  throw refuse(
    'This archive is not an office document (OpenDocument, Word, Excel or PowerPoint): other archives are not accepted.',
    'storage.error.unknownType',
  );
}

/** The kind of the content, or an unsupported_media_type error saying why it is refused. */
export function detectKind(sample: ContentSample, limits: ZipLimits = DEFAULT_ZIP_LIMITS): FileKind {
  const { head } = sample;
  if (startsWith(head, '%PDF-')) return 'pdf';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, 'GIF87a') || startsWith(head, 'GIF89a')) return 'gif';
  if (startsWith(head, 'RIFF') && startsWith(head, 'WEBP', 8)) return 'webp';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return zipKind(sample, limits);
  if (sample.utf8 && !sample.hasNul && sample.size > 0) {
    if (looksLikeMarkup(head)) {
      throw refuse(
        'HTML and SVG files are not accepted (they could run scripts in a reader’s browser): export the document to PDF.',
        'storage.error.markup',
      );
    }
    return 'text';
  }
  if (sample.size === 0) throw refuse('The file is empty.', 'storage.error.empty');
  throw refuse(
    'This type of file is not accepted: send a PDF, an OpenDocument or Office document, an image (PNG, JPEG, GIF, WebP) or plain text.',
    'storage.error.unknownType',
  );
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** Refuses a name whose extension is active content or disagrees with the real kind. */
export function checkNameAgainstKind(name: string, kind: FileKind): void {
  const ext = extensionOf(name);
  if (ACTIVE_EXTENSIONS.has(ext)) {
    throw refuse(`Files named .${ext} are not accepted (they could run scripts in a reader’s browser).`, 'storage.error.markup');
  }
  const info = KINDS[kind];
  if (ext === '' || info.extensions.includes(ext)) return;
  throw refuse(
    `The content of “${name}” is a ${info.label.en}, which does not match its extension .${ext}: rename it to .${info.extensions[0]} or send the right file.`,
    'storage.error.mismatch',
    { kind, extension: ext, expected: info.extensions[0] },
  );
}

/** A check for FileStorage.put: the kind of the content, agreeing with `name`. */
export function contentCheck(name: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): (sample: ContentSample) => FileKind {
  return (sample) => {
    const kind = detectKind(sample, limits);
    checkNameAgainstKind(name, kind);
    return kind;
  };
}
