// Importing subscribers from a spreadsheet or another newsletter service (Mailpro exports):
// UTF-8 or Windows-1252, comma or semicolon, French or English column names. Duplicates are
// merged, bad rows reported with their line number and the reason, addresses that were erased
// or unsubscribed are never brought back, and nobody is emailed unless the editor asks for a
// re-permission message. Rows go in by batches of 1,000, one SQL statement each (the checks, the
// insert and the consent log: importBatch), each batch in a transaction of its own, so that the
// embedded database is never held for long (about 0.1 s per batch) and a progress bar can follow.
import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import type { AppContext } from '../core/context.ts';
import { AppError } from '../core/errors.ts';
import { normaliseEmail } from '../mail/mail.headers.ts';
import { addressProblem } from './email-policy.ts';
import { type ImportedRows, importBatch } from './subscribers.repository.ts';
import { CONSENT_VERSION, cleanName, hashEmail, SUBSCRIBER_MAIL_QUEUE } from './subscribers.service.ts';
import type { ConsentMethod, Frequency, Source } from './subscribers.tables.ts';

// Rows per statement. On the embedded database each statement has a fixed cost (parsing and
// planning the import's query in WebAssembly): 2,500 rows imported 13,000-15,000 rows/s where
// 1,000 gave 10,500-12,000 (50,000 rows, BENCH_ONLY_IMPORT=1); 5,000 gave no more.
const BATCH = 2500;

export interface ImportOptions {
  /** The legal basis the editor states for these addresses (recorded in the consent log). */
  legalBasis: string;
  /** Send each new address a confirmation email (they stay pending until they confirm). */
  repermission: boolean;
  method: ConsentMethod;
  frequency: Frequency;
  sources: Source[];
  language: 'fr' | 'en';
  /** Called after each batch (for a progress bar): distinct valid addresses handled so far. */
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface ImportReport {
  encoding: 'utf-8' | 'windows-1252';
  delimiter: string;
  rows: number;
  imported: number;
  duplicates: number;
  alreadyKnown: number;
  suppressed: number;
  invalid: Array<{ line: number; reason: string }>;
}

export function decodeCsv(bytes: Buffer): { text: string; encoding: ImportReport['encoding'] } {
  if (bytes.includes(0)) {
    throw new AppError('unsupported_media_type', 'This file is not a CSV text file (it contains binary data): export it again as CSV.');
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return { text: text.replace(/^\uFEFF/, ''), encoding: 'utf-8' };
  } catch {
    const text = iconv.decode(bytes, 'windows-1252');
    // UTF-8 bytes read as Windows-1252 give "Ã©" and the like: a file that mixes both encodings
    // would be imported with garbled names. Refuse it rather than corrupt the names.
    if (/Ã[\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e]|Â[\u00a0-\u00bf]/.test(text)) {
      throw new AppError(
        'validation_failed',
        'This file mixes two text encodings (part UTF-8, part Windows-1252), so names would be garbled: open it in your spreadsheet and save it again as "CSV UTF-8".',
      );
    }
    return { text, encoding: 'windows-1252' };
  }
}

function detectDelimiter(text: string): string {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  const counts = [';', ',', '\t'].map((d) => [d, first.split(d).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]![1] > 0 ? counts[0]![0] : ',';
}

function key(header: string): string {
  return header
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}

const EMAIL_KEYS = new Set([
  'email',
  'mail',
  'courriel',
  'adresseemail',
  'adressemail',
  'adressecourriel',
  'adresseelectronique',
  'emailaddress',
]);
const LAST_KEYS = new Set(['nom', 'name', 'lastname', 'nomdefamille', 'surname', 'fullname', 'nomcomplet']);
const FIRST_KEYS = new Set(['prenom', 'firstname', 'givenname']);
const LANG_KEYS = new Set(['langue', 'language', 'lang']);

export interface ParsedRow {
  line: number;
  email: string;
  name: string | null;
  language: 'fr' | 'en' | null;
}

export function parseCsv(bytes: Buffer): {
  rows: ParsedRow[];
  invalid: ImportReport['invalid'];
  encoding: ImportReport['encoding'];
  delimiter: string;
  count: number;
} {
  const { text, encoding } = decodeCsv(bytes);
  const delimiter = detectDelimiter(text);
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, {
      delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      info: true,
      trim: true,
    }) as never;
  } catch (error) {
    throw new AppError('validation_failed', `This CSV file cannot be read: ${(error as Error).message}`);
  }
  const header = records.shift();
  if (!header) throw new AppError('validation_failed', 'The file is empty.');
  const keys = header.record.map(key);
  const emailCol = keys.findIndex((k) => EMAIL_KEYS.has(k));
  if (emailCol < 0) {
    throw new AppError(
      'validation_failed',
      `No email column: the first line must name the columns, one of them "email" (or "e-mail", "courriel"). Found: ${header.record.slice(0, 10).join(', ')}.`,
    );
  }
  const lastCol = keys.findIndex((k) => LAST_KEYS.has(k));
  const firstCol = keys.findIndex((k) => FIRST_KEYS.has(k));
  const langCol = keys.findIndex((k) => LANG_KEYS.has(k));
  const rows: ParsedRow[] = [];
  const invalid: ImportReport['invalid'] = [];
  for (const { record, info } of records) {
    const line = info.lines;
    const raw = record[emailCol] ?? '';
    if (raw === '' && record.every((c) => c === '')) continue;
    const email = normaliseEmail(raw);
    const problem = addressProblem(email);
    if (problem) {
      invalid.push({
        line,
        reason:
          raw === ''
            ? 'missing email address'
            : problem === 'invalid'
              ? `invalid email address "${raw.slice(0, 80)}"`
              : 'disposable email address',
      });
      continue;
    }
    const name = cleanName([firstCol >= 0 ? record[firstCol] : '', lastCol >= 0 ? record[lastCol] : ''].filter(Boolean).join(' '));
    const lang = langCol >= 0 ? (record[langCol] ?? '').toLowerCase().slice(0, 2) : '';
    rows.push({ line, email, name, language: lang === 'en' ? 'en' : lang === 'fr' ? 'fr' : null });
  }
  return { rows, invalid, encoding, delimiter, count: records.length };
}

export async function importSubscribers(ctx: AppContext, bytes: Buffer, options: ImportOptions): Promise<ImportReport> {
  const parsed = parseCsv(bytes);
  const report: ImportReport = {
    encoding: parsed.encoding,
    delimiter: parsed.delimiter,
    rows: parsed.count,
    imported: 0,
    duplicates: 0,
    alreadyKnown: 0,
    suppressed: 0,
    invalid: parsed.invalid,
  };
  // Duplicates in the file are merged: the first line wins, a later one may add a missing name.
  const unique = new Map<string, ParsedRow>();
  for (const row of parsed.rows) {
    const seen = unique.get(row.email);
    if (seen) {
      report.duplicates++;
      if (!seen.name && row.name) seen.name = row.name;
    } else unique.set(row.email, row);
  }
  const all = [...unique.values()];
  const common = {
    status: options.repermission ? ('pending' as const) : ('active' as const),
    frequency: options.frequency,
    sources: options.sources,
    confirmedAt: options.repermission ? null : new Date(),
    consent: { action: 'import', method: options.method, legalBasis: options.legalBasis, textVersion: CONSENT_VERSION },
    returnIds: options.repermission,
  };
  for (let i = 0; i < all.length; i += BATCH) {
    const batch: ImportedRows = { emails: [], hashes: [], names: [], languages: [] };
    for (let j = i; j < Math.min(all.length, i + BATCH); j++) {
      const r = all[j]!;
      batch.emails.push(r.email);
      batch.hashes.push(hashEmail(r.email));
      batch.names.push(r.name);
      batch.languages.push(r.language ?? options.language);
    }
    await ctx.db.transaction().execute(async (trx) => {
      const done = await importBatch(trx, batch, common);
      report.imported += done.imported;
      report.suppressed += done.suppressed;
      report.alreadyKnown += done.alreadyKnown;
      for (const id of done.ids) await ctx.queue.send(SUBSCRIBER_MAIL_QUEUE, { subscriberId: id, kind: 'confirm' }, { trx });
    });
    options.onProgress?.({ done: Math.min(all.length, i + BATCH), total: all.length });
  }
  return report;
}
