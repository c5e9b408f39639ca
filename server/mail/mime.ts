// Building the raw MIME message ourselves, for bulk sending: the bodies are quoted-printable
// encoded once per issue (in fragments, see qpFragment), so that each message only joins strings
// and writes a few headers. Every header value is checked or encoded here: names and subjects
// become RFC 2047 encoded words, nothing can add a line.
import crypto from 'node:crypto';
import { encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { assertSafeHeaders, headerText, isValidEmail } from './mail.headers.ts';

const ASCII = /^[\x20-\x7e]*$/;
const boundaryPrefix = crypto.randomBytes(9).toString('hex');
let boundaryCounter = 0;

// A mark on the Buffer object itself: a WeakSet entry per message (50,000 in a send) cost more,
// in the garbage collector's ephemeron work, than the rest of writing the message's headers.
const SMTP_READY = Symbol('smtpReady');
type Marked = Buffer & { [SMTP_READY]?: true };

/** Quoted-printable encoding of a fragment meant to be concatenated with others: it ends with a
 * soft line break, so joined fragments never make a line longer than 76 characters. */
export function qpFragment(text: string): string {
  if (text === '') return '';
  if (PRINTABLE.test(text)) return qpPrintable(text);
  return `${qpWrap(qpEncode(text.replace(/\r?\n/g, '\r\n')), 76)}=\r\n`;
}

const PRINTABLE = /^[\x20-\x7e]*$/;

/** qpFragment of printable ASCII on one line (each subscriber's links and greeting, encoded for
 * every message): only "=" is encoded, and lines are cut every 75 characters, never inside an
 * =XX sequence. A space before a soft line break is followed by its "=", so it stays as it is. */
function qpPrintable(text: string): string {
  const e = text.includes('=') ? text.replaceAll('=', '=3D') : text;
  if (e.length <= 75) return `${e}=\r\n`;
  let out = '';
  for (let i = 0; i < e.length; ) {
    let end = Math.min(i + 75, e.length);
    if (end < e.length) {
      if (e[end - 1] === '=') end -= 1;
      else if (e[end - 2] === '=') end -= 2;
    }
    out += `${e.slice(i, end)}=\r\n`;
    i = end;
  }
  return out;
}

function encodedPhrase(name: string): string {
  const clean = headerText(name, 100).replace(/["\\]/g, '');
  return ASCII.test(clean) ? `"${clean}"` : encodeWords(clean, 'Q', 52);
}

/** `"Name" <address>` → header form with the name encoded; plain addresses pass through. */
export function addressHeader(value: string): { header: string; address: string } {
  const m = value.match(/^"([^"]*)" <([^<>\s]+)>$/) ?? value.match(/^()([^<>\s"]+)$/);
  if (!m || !isValidEmail(m[2]!)) throw new Error('invalid address');
  return { header: m[1] ? `${encodedPhrase(m[1])} <${m[2]}>` : m[2]!, address: m[2]! };
}

export interface RawParts {
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  messageId: string;
  date: Date;
  headers: Record<string, string>;
  /** Already quoted-printable encoded (CRLF line ends); pieces are written one after the other. */
  textQp: string | readonly string[];
  htmlQp: string | readonly string[];
}

export function composeRaw(p: RawParts): { raw: string; envelopeFrom: string; envelopeTo: string } {
  const { lines, envelopeFrom, envelopeTo } = rawLines(p);
  return { raw: lines.map((l) => (typeof l === 'string' ? l : l.join(''))).join('\r\n'), envelopeFrom, envelopeTo };
}

/** The same message written straight into one Buffer (it is ASCII through and through). For bulk
 * sending: the bodies stay in the pieces they were encoded in, once per issue, and are copied
 * once, into the Buffer; no 50 KB string is built per message (the garbage collector's work, and
 * so the sender's memory and CPU, went down with it).
 *
 * With `smtpReady`, the bytes are those that go on the wire after SMTP's DATA: line ends are all
 * CRLF and a line that starts with a dot gets a second one (RFC 5321 4.5.2). The large
 * pieces are converted once and remembered, each message only converts its small ones; the
 * transport then sends the bytes without its own byte-by-byte pass (smtp-bulk.ts). Such a buffer
 * is marked (isSmtpReady) so that any other path can turn it back (unstuffSmtp). */
export function composeRawBuffer(
  p: RawParts,
  /** A buffer to write into again, once the message written there before is no longer read. */
  scratch?: RawScratch,
  options: { smtpReady?: boolean } = {},
): { raw: Buffer; envelopeFrom: string; envelopeTo: string } {
  const { lines, envelopeFrom, envelopeTo } = rawLines(p);
  const ready = options.smtpReady === true;
  // The message as a flat list of strings, each line's pieces then CRLF.
  const flat: string[] = [];
  let size = 0;
  // The last character written: a piece that starts with a dot right after a line end is stuffed.
  let last = '\n';
  // Only the bodies need converting: the header lines were checked (CRLF only, each line starts
  // with a name or with folding white space) and the other lines are written here.
  const add = (s: string, body: boolean) => {
    if (s === '') return;
    if (ready) {
      if (s.charCodeAt(0) === 0x2e && last === '\n') {
        flat.push('.');
        size += 1;
      }
      if (body) s = smtpPiece(s);
      last = s[s.length - 1]!;
    }
    flat.push(s);
    size += s.length;
  };
  for (let i = 0; i < lines.length; i++) {
    if (i > 0) add('\r\n', false);
    const l = lines[i]!;
    if (typeof l !== 'string') for (const piece of l) add(piece, true);
    else add(l, l === p.textQp || l === p.htmlQp);
  }
  const raw = bufferFor(size, scratch);
  let at = 0;
  for (const s of flat) at += raw.write(s, at, 'latin1');
  if (at !== size) throw new Error('raw message size mismatch');
  if (ready) (raw as Marked)[SMTP_READY] = true;
  return { raw, envelopeFrom, envelopeTo };
}

/** Marks bytes written in their SMTP form by another writer of this module's kind (mime-bulk.ts). */
export function markSmtpReady(raw: Buffer): Buffer {
  (raw as Marked)[SMTP_READY] = true;
  return raw;
}

/** Bytes read back from somewhere (the benchmark's sample file) marked as SMTP-ready, once
 * checked: CRLF line ends only, and no line that is a single dot (the end of the data). */
export function asSmtpReady(raw: Buffer): Buffer {
  const s = raw.toString('latin1');
  if (/\r(?!\n)|(?<!\r)\n|(^|\n)\.\r\n/.test(s)) throw new Error('not SMTP-ready bytes');
  return markSmtpReady(raw);
}

/** True for a buffer written by composeRawBuffer with `smtpReady` (CRLF only, dots stuffed). */
export function isSmtpReady(raw: Buffer | string): boolean {
  return typeof raw !== 'string' && (raw as Marked)[SMTP_READY] === true;
}

// The large pieces, converted once: the same strings come back for every message.
const converted = new Map<string, string>();
const CACHE_FROM = 512;
const CACHE_MAX = 256;

/** One piece with every line end made CRLF and every dot that starts a line (after a line end
 * inside the piece) doubled, as nodemailer's data stream would do byte by byte. */
export function smtpPiece(s: string): string {
  if (s.length < CACHE_FROM) return convert(s);
  let out = converted.get(s);
  if (out === undefined) {
    // Pieces of older issues go: a process sends one issue at a time.
    if (converted.size >= CACHE_MAX) converted.clear();
    out = convert(s);
    converted.set(s, out);
  }
  return out;
}

function convert(s: string): string {
  let out = s;
  // A lone CR or LF becomes CRLF (a lone one could end the data early for some servers).
  if (/\r(?!\n)|(?<!\r)\n/.test(out)) out = out.replace(/\r\n|\r|\n/g, '\r\n');
  if (out.includes('\n.')) out = out.replaceAll('\n.', '\n..');
  return out;
}

/** The message as it was before dot stuffing, for a path that stuffs by itself (nodemailer's
 * data stream, a file in the outbox). Its line ends stay CRLF. */
export function unstuffSmtp(raw: Buffer): Buffer {
  let at = raw[0] === 0x2e ? 0 : raw.indexOf('\n.');
  if (at === -1) return raw;
  const pieces: Buffer[] = [];
  let from = 0;
  while (at !== -1) {
    // The dot after the line end (or the first byte) is the one that was added.
    const dot = raw[at] === 0x2e ? at : at + 1;
    pieces.push(raw.subarray(from, dot));
    from = dot + 1;
    at = raw.indexOf('\n.', from);
  }
  pieces.push(raw.subarray(from));
  return Buffer.concat(pieces);
}

/** Memory reused from one message to the next by one sending lane: without it each message
 * left 50 KB behind for the garbage collector, which frees such buffers only on its rarer full
 * collections (hundreds of megabytes at a few hundred messages per second). */
export interface RawScratch {
  buffer?: Buffer;
}

/** `size` bytes to write a message into: the scratch buffer's when there is one. */
export function bufferFor(size: number, scratch: RawScratch | undefined): Buffer {
  if (!scratch) return Buffer.allocUnsafeSlow(size);
  // A little room, so that the next recipient's longer name or address fits too.
  if (!scratch.buffer || scratch.buffer.length < size) scratch.buffer = Buffer.allocUnsafeSlow(size + 1024);
  return scratch.buffer.subarray(0, size);
}

export function newBoundary(): string {
  return `----=_amap_${boundaryPrefix}_${(boundaryCounter++).toString(36)}`;
}

export const HEADER = /^[A-Za-z0-9-]+:(?: [^\r\n]*)?(?:\r\n[ \t]\S[^\r\n]*)*$/;

// The sender's address, the subject and the date are the same for every message of a send (the
// date for a second): encoded once, not for each of 50,000 messages.
let lastSender: { value: string; result: { header: string; address: string } } | undefined;
export function senderHeader(value: string): { header: string; address: string } {
  if (lastSender?.value !== value) lastSender = { value, result: addressHeader(value) };
  return lastSender.result;
}

let lastSubject = { value: '', header: '' };
export function subjectHeader(value: string): string {
  if (lastSubject.value !== value || lastSubject.header === '') {
    const subject = headerText(value, 250);
    const header = foldLines(`Subject: ${ASCII.test(subject) ? subject : encodeWords(subject, 'Q', 52)}`, 76, false).replace(/\r?\n$/, '');
    lastSubject = { value, header };
  }
  return lastSubject.header;
}

let lastDate = { time: Number.NaN, header: '' };
export function dateHeader(date: Date): string {
  // The header has whole seconds.
  const time = Math.floor(date.getTime() / 1000);
  if (lastDate.time !== time) lastDate = { time, header: date.toUTCString().replace('GMT', '+0000') };
  return lastDate.header;
}

/** A header line folded as nodemailer folds it at 76 characters; a shorter one is left as it is. */
export function fold(line: string): string {
  return line.length < 76 ? line : foldLines(line, 76, false).replace(/\r?\n$/, '');
}

function rawLines(p: RawParts): { lines: (string | readonly string[])[]; envelopeFrom: string; envelopeTo: string } {
  assertSafeHeaders(p.headers);
  if (/[\r\n<>\s]/.test(p.messageId)) throw new Error('unsafe Message-ID');
  const from = senderHeader(p.from);
  const to = addressHeader(p.to);
  // "=_" never occurs in quoted-printable text ("=" is always written =3D), so no body can contain
  // the boundary; the per-process random part and the counter only make each message's distinct.
  // (crypto.randomBytes for each of 50,000 messages showed in the profile; this costs nothing.)
  const boundary = newBoundary();
  const lines: (string | readonly string[])[] = [
    `From: ${from.header}`,
    `To: ${to.header}`,
    ...(p.replyTo ? [`Reply-To: ${senderHeader(p.replyTo).header}`] : []),
    subjectHeader(p.subject),
    `Message-ID: <${p.messageId}>`,
    `Date: ${dateHeader(p.date)}`,
    'MIME-Version: 1.0',
    ...Object.entries(p.headers).map(([k, v]) => fold(`${k}: ${v}`)),
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    p.textQp,
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    p.htmlQp,
    `--${boundary}--`,
    '',
  ];
  // Last line of defence: every header is one line, or folded into continuation lines.
  for (const line of lines) {
    if (line === '') break;
    if (!HEADER.test(line as string)) throw new Error('malformed header block');
  }
  return { lines, envelopeFrom: from.address, envelopeTo: to.address };
}
