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

/** Quoted-printable encoding of a fragment meant to be concatenated with others: it ends with a
 * soft line break, so joined fragments never make a line longer than 76 characters. */
export function qpFragment(text: string): string {
  if (text === '') return '';
  return `${qpWrap(qpEncode(text.replace(/\r?\n/g, '\r\n')), 76)}=\r\n`;
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
 * so the sender's memory and CPU, went down with it). */
export function composeRawBuffer(
  p: RawParts,
  /** A buffer to write into again, once the message written there before is no longer read. */
  scratch?: RawScratch,
): { raw: Buffer; envelopeFrom: string; envelopeTo: string } {
  const { lines, envelopeFrom, envelopeTo } = rawLines(p);
  let size = 2 * (lines.length - 1);
  for (const l of lines) {
    if (typeof l === 'string') size += l.length;
    else for (const piece of l) size += piece.length;
  }
  let raw: Buffer;
  if (scratch) {
    // A little room, so that the next subscriber's longer name or address fits too.
    if (!scratch.buffer || scratch.buffer.length < size) scratch.buffer = Buffer.allocUnsafeSlow(size + 1024);
    raw = scratch.buffer.subarray(0, size);
  } else raw = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    if (i > 0) at += raw.write('\r\n', at, 'latin1');
    const l = lines[i]!;
    if (typeof l === 'string') at += raw.write(l, at, 'latin1');
    else for (const piece of l) at += raw.write(piece, at, 'latin1');
  }
  if (at !== size) throw new Error('raw message size mismatch');
  return { raw, envelopeFrom, envelopeTo };
}

/** Memory reused from one message to the next by one sending lane: without it each message
 * left 50 KB behind for the garbage collector, which frees such buffers only on its rarer full
 * collections (hundreds of megabytes at a few hundred messages per second). */
export interface RawScratch {
  buffer?: Buffer;
}

function rawLines(p: RawParts): { lines: (string | readonly string[])[]; envelopeFrom: string; envelopeTo: string } {
  assertSafeHeaders(p.headers);
  if (/[\r\n<>\s]/.test(p.messageId)) throw new Error('unsafe Message-ID');
  const from = addressHeader(p.from);
  const to = addressHeader(p.to);
  const subject = headerText(p.subject, 250);
  // "=_" never occurs in quoted-printable text ("=" is always written =3D), so no body can contain
  // the boundary; the per-process random part and the counter only make each message's distinct.
  // (crypto.randomBytes for each of 50,000 messages showed in the profile; this costs nothing.)
  const boundary = `----=_amap_${boundaryPrefix}_${(boundaryCounter++).toString(36)}`;
  const lines: (string | readonly string[])[] = [
    `From: ${from.header}`,
    `To: ${to.header}`,
    ...(p.replyTo ? [`Reply-To: ${addressHeader(p.replyTo).header}`] : []),
    foldLines(`Subject: ${ASCII.test(subject) ? subject : encodeWords(subject, 'Q', 52)}`, 76, false).replace(/\r?\n$/, ''),
    `Message-ID: <${p.messageId}>`,
    `Date: ${p.date.toUTCString().replace('GMT', '+0000')}`,
    'MIME-Version: 1.0',
    ...Object.entries(p.headers).map(([k, v]) => foldLines(`${k}: ${v}`, 76, false).replace(/\r?\n$/, '')),
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
  const head = (lines.slice(0, lines.indexOf('')) as string[]).join('\r\n').split('\r\n');
  // Last line of defence: every header line is a header or the continuation of one.
  if (!head.every((line) => /^([A-Za-z0-9-]+:( .*)?|[ \t]\S.*)$/.test(line))) throw new Error('malformed header block');
  return { lines, envelopeFrom: from.address, envelopeTo: to.address };
}
