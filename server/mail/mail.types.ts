// One adapter for every outgoing email: render first (the caller builds subject, HTML and text),
// then hand the finished message to a MailTransport. Transports never render, renderers never send.

export interface MailMessage {
  /** Already formatted `Name <address>`, built by formatAddress(). */
  from: string;
  replyTo?: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Message-ID without angle brackets, e.g. `uuid@amap-aura.org`. */
  messageId: string;
  date?: Date;
  /** Extra headers (List-Id, List-Unsubscribe...). Values are checked for CR/LF before sending. */
  headers?: Record<string, string>;
  /**
   * The finished MIME message, when the caller built it (bulk sending: see mime.ts). The fields
   * above then only describe it; the transport sends these bytes as they are.
   */
  prebuilt?: { raw: string | Buffer; envelopeFrom: string; envelopeTo: string };
}

export interface SendResult {
  /** What the server answered (e.g. "250 OK queued"), or the outbox file name. */
  response: string;
}

export interface MailTransport {
  readonly kind: 'smtp' | 'outbox';
  send(message: MailMessage): Promise<SendResult>;
  close(): Promise<void>;
}

/**
 * A failure to hand over a message. `permanent` means the server refused this recipient or
 * message for good (5xx): retrying will not help. Anything else (4xx, timeouts, lost
 * connections) is temporary.
 */
export class MailSendError extends Error {
  readonly permanent: boolean;
  readonly responseCode: number | undefined;
  constructor(message: string, permanent: boolean, responseCode?: number) {
    super(message);
    this.name = 'MailSendError';
    this.permanent = permanent;
    this.responseCode = responseCode;
  }
}
