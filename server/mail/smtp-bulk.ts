// A pool of nodemailer's own SMTP connections for bulk messages whose bytes are already final
// (composeRawBuffer with `smtpReady`: CRLF line ends, dots stuffed). nodemailer's pooled transport
// passes every message through its Mail and MIME layers and then through its data stream, which
// looks at each byte in JavaScript to stuff dots and fix line ends: for a 50 KB newsletter that
// byte loop was half of the sending process's CPU (profiled: 0.4–0.5 ms per message). Here the
// message goes straight to SMTPConnection.send(), and for a ready message the data stream of that
// send passes the bytes through as they are (its end-of-data line is still nodemailer's).
//
// That last step replaces the transform of one nodemailer object created by a method nodemailer
// marks as internal (_createSendStream). If a nodemailer version no longer has it, FAST_PATH is
// false and ready messages are turned back (unstuffSmtp) and sent through the normal data stream:
// slower, never wrong. tests/integration/mail-smtp-bulk.integration.test.ts checks the bytes the
// server receives, and that the fast path is in use.
import type { Transform, TransformCallback } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { isSmtpReady, unstuffSmtp } from './mime.ts';

interface DataStreamInternals extends Transform {
  inByteCount: number;
  outByteCount: number;
  lastByte: number | false;
}

type CreateSendStream = (this: SMTPConnection, callback: (err: Error | null, str?: string) => void) => DataStreamInternals;

const createSendStream = (SMTPConnection.prototype as unknown as { _createSendStream?: CreateSendStream })._createSendStream;

/** Whether nodemailer's data stream can be told to pass ready bytes through. */
export const FAST_PATH = typeof createSendStream === 'function';

/** The transform of a ready message's data stream: the bytes are already what SMTP needs. It keeps
 * the counters and the last byte, which nodemailer's end of data (and its logs) read. */
function passThrough(this: DataStreamInternals, chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
  if (chunk.length > 0) {
    this.inByteCount += chunk.length;
    this.outByteCount += chunk.length;
    this.lastByte = chunk[chunk.length - 1]!;
    this.push(chunk);
  }
  done();
}

class ReadyConnection extends SMTPConnection {
  /** Set just before send() for a ready message; read when its data stream is created. */
  nextIsReady = false;
  /** Whether the current message reached its data stage (some of it may then have been sent). */
  dataStarted = false;

  _createSendStream(callback: (err: Error | null, str?: string) => void): DataStreamInternals {
    this.dataStarted = true;
    const stream = createSendStream!.call(this, callback);
    if (this.nextIsReady) {
      this.nextIsReady = false;
      stream._transform = passThrough;
    }
    return stream;
  }
}

export interface BulkPoolOptions {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
  maxConnections: number;
  /** Messages per connection before it is closed and another opened. */
  maxMessages: number;
  timeoutMs: number;
  /** An idle connection is closed after this long, before a server drops it under our feet. */
  idleMs?: number;
}

interface Slot {
  connection: ReadyConnection;
  messages: number;
  broken: boolean;
  /** Closed and no longer counted. */
  gone: boolean;
  /** A message is on it: its outcome decides what becomes of the connection. */
  busy: boolean;
  idleTimer?: NodeJS.Timeout;
}

export interface BulkResult {
  response: string;
  rejected: string[];
}

type SmtpError = Error & { code?: string; responseCode?: number };

export class SmtpBulkPool {
  readonly #options: BulkPoolOptions;
  readonly #idle: Slot[] = [];
  #open = 0;
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(options: BulkPoolOptions) {
    this.#options = options;
  }

  /** Sends one message (raw bytes) to one envelope; rejects with nodemailer's error. */
  async send(envelope: { from: string; to: string[] }, raw: Buffer, retried = false): Promise<BulkResult> {
    const ready = isSmtpReady(raw);
    const bytes = ready && !FAST_PATH ? unstuffSmtp(raw) : raw;
    const slot = await this.#acquire();
    const reused = slot.messages > 0;
    slot.busy = true;
    try {
      const info = await new Promise<{ response?: string; rejected?: string[] }>((resolve, reject) => {
        slot.connection.dataStarted = false;
        slot.connection.nextIsReady = ready && FAST_PATH;
        slot.connection.send(envelope, bytes, (err, result) => (err ? reject(err) : resolve(result)));
      });
      slot.messages += 1;
      slot.busy = false;
      this.#release(slot);
      return { response: String(info.response ?? ''), rejected: (info.rejected ?? []).map(String) };
    } catch (error) {
      slot.messages += 1;
      slot.busy = false;
      slot.connection.nextIsReady = false;
      const e = error as SmtpError;
      // Refused by the server (envelope or message): the session is fine once reset.
      if ((e.code === 'EENVELOPE' || e.code === 'EMESSAGE') && e.responseCode !== 421 && !slot.broken) {
        slot.connection.reset((resetError) => {
          if (resetError) slot.broken = true;
          this.#release(slot);
        });
      } else {
        slot.broken = true;
        this.#release(slot);
        // A connection that had sent messages before and was closed by the server before this
        // one's data began (idle too long, say): nothing of it went out, another connection takes it.
        const closed = e.code === 'ECONNECTION' || e.code === 'ESOCKET' || e.responseCode === 421;
        if (reused && closed && !slot.connection.dataStarted && !retried && !this.#closed) return this.send(envelope, raw, true);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const slot of this.#idle.splice(0)) this.#discard(slot);
    for (const w of this.#waiters.splice(0)) w();
  }

  async #acquire(): Promise<Slot> {
    while (true) {
      if (this.#closed) throw Object.assign(new Error('SMTP pool closed'), { code: 'ECONNECTION' });
      const slot = this.#idle.pop();
      if (slot) {
        clearTimeout(slot.idleTimer);
        return slot;
      }
      if (this.#open < this.#options.maxConnections) {
        this.#open += 1;
        try {
          return await this.#connect();
        } catch (error) {
          this.#open -= 1;
          this.#wakeOne();
          throw error;
        }
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #connect(): Promise<Slot> {
    const o = this.#options;
    const connection = new ReadyConnection({
      host: o.host,
      port: o.port,
      secure: o.secure,
      connectionTimeout: o.timeoutMs,
      greetingTimeout: o.timeoutMs,
      socketTimeout: o.timeoutMs,
    });
    const slot: Slot = { connection, messages: 0, broken: false, gone: false, busy: false };
    return new Promise<Slot>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        connection.close();
        reject(error);
      };
      // An error while sending also reaches send()'s callback; any error ends this connection.
      // A connection that ends while idle (or while being reset) leaves the pool; one with a
      // message on it is discarded by send(), which gets the error.
      connection.on('error', (error: unknown) => {
        slot.broken = true;
        if (!slot.busy) this.#forget(slot);
        fail(error);
      });
      connection.once('end', () => {
        slot.broken = true;
        if (!slot.busy) this.#forget(slot);
        fail(Object.assign(new Error('connection closed'), { code: 'ECONNECTION' }));
      });
      connection.connect((error) => {
        if (error) return fail(error);
        if (!o.auth || !connection.allowsAuth) {
          settled = true;
          return resolve(slot);
        }
        connection.login(o.auth, (loginError) => {
          if (loginError) return fail(loginError);
          settled = true;
          resolve(slot);
        });
      });
    });
  }

  #release(slot: Slot): void {
    if (slot.broken || this.#closed || slot.messages >= this.#options.maxMessages) {
      this.#discard(slot);
      return;
    }
    slot.idleTimer = setTimeout(() => this.#discard(slot), this.#options.idleMs ?? 30_000);
    slot.idleTimer.unref();
    this.#idle.push(slot);
    this.#wakeOne();
  }

  #discard(slot: Slot): void {
    if (slot.gone) return;
    if (slot.broken) slot.connection.close();
    else slot.connection.quit();
    slot.broken = true;
    this.#forget(slot);
  }

  /** No longer in the pool: its place can be taken by a new connection. */
  #forget(slot: Slot): void {
    if (slot.gone) return;
    slot.gone = true;
    clearTimeout(slot.idleTimer);
    const i = this.#idle.indexOf(slot);
    if (i !== -1) this.#idle.splice(i, 1);
    this.#open -= 1;
    this.#wakeOne();
  }

  #wakeOne(): void {
    this.#waiters.shift()?.();
  }
}
