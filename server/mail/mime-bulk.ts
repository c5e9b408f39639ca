// One message written for many recipients: a newsletter issue in one language. What is the same
// for all of them is checked, encoded and turned into bytes once: the sender, the subject, the
// fixed headers, and the bodies' encoded parts in their SMTP form. Each recipient's message then
// only encodes its own few values (address, Message-ID, links, greeting) and copies the rest into
// the sending lane's buffer. Built per message by composeRawBuffer, the same bytes cost about
// 0.05 ms of CPU and ~12 KB of garbage per message at 50,000 messages (docs/performance.md).
//
// The bytes are exactly those of composeRawBuffer with `smtpReady`, boundary aside:
// tests/unit/mail-mime-bulk.test.ts compares them.
import { assertSafeHeaders, hasControl } from './mail.headers.ts';
import {
  addressHeader,
  bufferFor,
  dateHeader,
  fold,
  HEADER,
  markSmtpReady,
  newBoundary,
  type RawScratch,
  senderHeader,
  smtpPiece,
  subjectHeader,
} from './mime.ts';

/** A body already quoted-printable encoded in fragments (qpFragment): fixed parts, with a
 * recipient's value between each two (slots[i] between parts[i] and parts[i + 1]). */
export interface BodyTemplate {
  readonly parts: readonly string[];
  readonly slots: readonly string[];
}

export interface BulkCommon {
  from: string;
  replyTo?: string;
  subject: string;
  /** In their order in the message; `null` for a header whose value each recipient has. */
  headers: Record<string, string | null>;
  textQp: BodyTemplate;
  htmlQp: BodyTemplate;
}

export interface BulkRecipient {
  to: string;
  messageId: string;
  date: Date;
  /** The values of the common headers given as `null`. */
  headers: Record<string, string>;
  /** Each slot's value for this recipient, quoted-printable encoded (qpFragment), per body. */
  textValues: Record<string, string>;
  htmlValues: Record<string, string>;
}

type Piece =
  | { kind: 'fixed'; bytes: Buffer; startsWithDot: boolean; endsWithLf: boolean }
  | { kind: 'to' | 'messageId' | 'date' }
  | { kind: 'header'; name: string }
  | { kind: 'text' | 'html'; slot: string };

const LF = 0x0a;
const DOT = 0x2e;

export class BulkMessage {
  readonly #pieces: Piece[] = [];
  #pending = '';
  readonly #envelopeFrom: string;

  constructor(common: BulkCommon) {
    const fixedHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(common.headers)) fixedHeaders[name] = value ?? '';
    assertSafeHeaders(fixedHeaders);
    const from = senderHeader(common.from);
    this.#envelopeFrom = from.address;
    // The same lines as composeRawBuffer's, in the same order.
    this.#line(`From: ${from.header}`);
    this.#text('To: ');
    this.#slot({ kind: 'to' });
    this.#text('\r\n');
    if (common.replyTo) this.#line(`Reply-To: ${senderHeader(common.replyTo).header}`);
    this.#line(subjectHeader(common.subject));
    this.#text('Message-ID: <');
    this.#slot({ kind: 'messageId' });
    this.#text('>\r\nDate: ');
    this.#slot({ kind: 'date' });
    this.#text('\r\nMIME-Version: 1.0\r\n');
    for (const [name, value] of Object.entries(common.headers)) {
      if (value === null) {
        this.#slot({ kind: 'header', name });
        this.#text('\r\n');
      } else this.#line(fold(`${name}: ${value}`));
    }
    const boundary = newBoundary();
    this.#text(`Content-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n`);
    this.#text(`--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`);
    this.#body(common.textQp, 'text');
    this.#text(`\r\n--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`);
    this.#body(common.htmlQp, 'html');
    this.#text(`\r\n--${boundary}--\r\n`);
    this.#flush();
  }

  /** This recipient's message, in `scratch`'s buffer when one is given (reused by the next call). */
  write(r: BulkRecipient, scratch?: RawScratch): { raw: Buffer; envelopeFrom: string; envelopeTo: string } {
    if (/[\r\n<>\s]/.test(r.messageId)) throw new Error('unsafe Message-ID');
    const to = addressHeader(r.to);
    const values: (string | Buffer)[] = [];
    let size = 0;
    let lastIsLf = true;
    const add = (v: string | Buffer, startsWithDot: boolean, endsWithLf: boolean) => {
      if (v.length === 0) return;
      // A line that starts with a dot gets a second one (RFC 5321 4.5.2).
      if (startsWithDot && lastIsLf) {
        values.push('.');
        size += 1;
      }
      values.push(v);
      size += v.length;
      lastIsLf = endsWithLf;
    };
    const addString = (s: string) => add(s, s.charCodeAt(0) === DOT, s.charCodeAt(s.length - 1) === LF);
    for (const p of this.#pieces) {
      switch (p.kind) {
        case 'fixed':
          add(p.bytes, p.startsWithDot, p.endsWithLf);
          break;
        case 'to':
          addString(to.header);
          break;
        case 'messageId':
          addString(r.messageId);
          break;
        case 'date':
          addString(dateHeader(r.date));
          break;
        case 'header': {
          const value = r.headers[p.name];
          if (value === undefined || hasControl(value)) throw new Error(`unsafe value for header ${p.name}`);
          const line = fold(`${p.name}: ${value}`);
          if (!HEADER.test(line)) throw new Error('malformed header block');
          addString(line);
          break;
        }
        case 'text':
        case 'html': {
          const value = (p.kind === 'text' ? r.textValues : r.htmlValues)[p.slot];
          if (value === undefined) throw new Error(`no value for ${p.slot}`);
          addString(smtpPiece(value));
          break;
        }
      }
    }
    const raw = bufferFor(size, scratch);
    let at = 0;
    for (const v of values) at += typeof v === 'string' ? raw.write(v, at, 'latin1') : v.copy(raw, at);
    if (at !== size) throw new Error('raw message size mismatch');
    return { raw: markSmtpReady(raw), envelopeFrom: this.#envelopeFrom, envelopeTo: to.address };
  }

  #line(line: string): void {
    if (!HEADER.test(line)) throw new Error('malformed header block');
    this.#text(`${line}\r\n`);
  }

  #text(s: string): void {
    this.#pending += s;
  }

  #slot(piece: Piece): void {
    this.#flush();
    this.#pieces.push(piece);
  }

  #body(body: BodyTemplate, kind: 'text' | 'html'): void {
    for (let i = 0; i < body.parts.length; i++) {
      let part = smtpPiece(body.parts[i]!);
      // A part that starts a line with a dot, after fixed text: stuffed here. After a recipient's
      // value, write() decides (its startsWithDot).
      if (part.charCodeAt(0) === DOT && this.#pending.charCodeAt(this.#pending.length - 1) === LF) part = `.${part}`;
      this.#text(part);
      const slot = body.slots[i];
      if (slot !== undefined) this.#slot({ kind, slot });
    }
  }

  #flush(): void {
    const s = this.#pending;
    this.#pending = '';
    if (s === '') return;
    this.#pieces.push({
      kind: 'fixed',
      bytes: Buffer.from(s, 'latin1'),
      startsWithDot: s.charCodeAt(0) === DOT,
      endsWithLf: s.charCodeAt(s.length - 1) === LF,
    });
  }
}
