// The progress of a send, live: a real instance sends an issue to a real (slow) SMTP server while
// an editor's WebSocket follows the issue's topic; the same topic is unknown to an anonymous
// visitor (no socket is opened). The sender publishes about once a second, then the final count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createUserWithToken } from '../helpers/accounts.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';
import { seedSubscribers } from '../helpers/newsletter-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../helpers/smtp.ts';

let sink: SmtpSink;
let instance: TestInstance;
let token: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  instance = await startTestInstance({ SMTP_URL: sink.url });
  ({ token } = await createUserWithToken(instance.ctx, 'editor'));
});
afterAll(async () => {
  await instance?.destroy();
  await sink?.close();
});

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${instance.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return res.json();
}

describe('live progress of a send', () => {
  it('is given to editors only, about once a second, and ends with the final count', async () => {
    await seedSubscribers(instance.ctx, 300, { prefix: 'live' });
    const issue = await api('POST', '/api/v1/newsletters', { subject: 'En direct', introduction: 'Texte.' });
    const topic = `newsletters.issue.${issue.id}`;
    const wsUrl = `${instance.url.replace('http', 'ws')}/live?topics=${topic}`;

    // Anonymous: the topic does not exist for them (400 before any upgrade).
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(wsUrl);
      socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.on('open', () => {
        socket.close();
        resolve(101);
      });
    });
    expect(refused).toBe(400);

    const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` } });
    const messages: any[] = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise<void>((resolve, reject) => {
      socket.on('open', () => resolve());
      socket.on('error', reject);
    });
    sink.behaviour.delayMs = 10; // 300 messages on the default connections: a few seconds
    try {
      await api('POST', `/api/v1/newsletters/${issue.id}/send`, {});
      const until = Date.now() + 60_000;
      while (!messages.some((m) => m.data.status === 'sent') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    } finally {
      sink.behaviour = {};
      socket.close();
    }
    expect(messages.every((m) => m.topic === topic)).toBe(true);
    const last = messages.at(-1);
    expect(last.data).toMatchObject({ status: 'sent', sent: 300, remaining: 0, total: 300 });
    const during = messages.filter((m) => m.data.status === 'sending');
    expect(during.length).toBeGreaterThan(0);
    expect(during.every((m) => m.data.sent < 300 || m.data.remaining === 0)).toBe(true);
  }, 90_000);
});
