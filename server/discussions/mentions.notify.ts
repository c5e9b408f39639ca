// Mentions notify: a member of this instance mentioned in a post (written here or received) gets
// an email with a link to it. Only when they may read the post (a members-only group's post is
// never announced to someone outside it), never for their own post, and without the post's text
// (the link leads to it; nothing of a group's content travels by email).
import crypto from 'node:crypto';
import type { Locale } from '../config.ts';
import type { AppContext } from '../core/context.ts';
import type { Executor } from '../core/events.ts';
import { formatAddress } from '../mail/mail.headers.ts';
import { hostOf } from '../mail/mail.settings.ts';
import { MailSendError } from '../mail/mail.types.ts';
import { getMailer } from '../mail/mailer.ts';
import { escapeHtml } from '../web/html.ts';
import { findGroupById } from './groups.repository.ts';
import { findMemberByActorUsername, findMemberById } from './members.repository.ts';
import { findMembership } from './memberships.repository.ts';
import { findPostById, type PostRow } from './posts.repository.ts';
import { personApId } from './posts.service.ts';
import './discussions.events.ts';

export const MENTION_MAIL_QUEUE = 'discussions.mention-mail';

interface MentionMailJob {
  memberId: string;
  postId: string;
}

const TEXTS: Record<Locale, { subject: string; body: string; button: string; why: string }> = {
  fr: {
    subject: '{author} vous a mentionné·e dans une discussion',
    body: '{author} vous a mentionné·e dans une discussion de {instance}.',
    button: 'Lire le message',
    why: 'Vous recevez ce message parce que vous participez aux discussions de {instance}.',
  },
  en: {
    subject: '{author} mentioned you in a discussion',
    body: '{author} mentioned you in a discussion on {instance}.',
    button: 'Read the message',
    why: 'You receive this message because you take part in the discussions on {instance}.',
  },
};

/** The local members a post mentions and may read it (its author left out). */
async function mentionedReaders(ctx: AppContext, db: Executor, post: PostRow): Promise<string[]> {
  const ours = new URL(ctx.config.publicUrl).host.toLowerCase();
  const group = post.group_id ? await findGroupById(db, post.group_id) : undefined;
  const ids: string[] = [];
  for (const mention of post.mentions) {
    const at = mention.lastIndexOf('@');
    if (at <= 0 || mention.slice(at + 1).toLowerCase() !== ours) continue;
    const member = await findMemberByActorUsername(db, mention.slice(0, at).toLowerCase());
    if (!member || member.id === post.author_member_id || ids.includes(member.id)) continue;
    if (group?.visibility === 'members') {
      const membership = await findMembership(db, group.id, personApId(ctx, member.username));
      if (membership?.status !== 'accepted') continue;
    }
    ids.push(member.id);
  }
  return ids;
}

export function registerMentionNotifications(ctx: AppContext): void {
  ctx.queue.define<MentionMailJob>({
    name: MENTION_MAIL_QUEUE,
    retryLimit: 5,
    retryDelay: 30,
    concurrency: 2,
    handler: async (data) => sendMentionMail(ctx, data),
  });
  const onVisible = async ({ postId }: { postId: string }, trx: Executor) => {
    const post = await findPostById(trx, postId);
    if (post?.status !== 'visible' || post.mentions.length === 0) return;
    for (const memberId of await mentionedReaders(ctx, trx, post)) {
      await ctx.queue.send(MENTION_MAIL_QUEUE, { memberId, postId }, { trx });
    }
  };
  ctx.events.on('discussion.post.created', onVisible);
  ctx.events.on('discussion.post.approved', onVisible);
}

async function sendMentionMail(ctx: AppContext, job: MentionMailJob): Promise<void> {
  const [member, post] = [await findMemberById(ctx.db, job.memberId), await findPostById(ctx.db, job.postId)];
  if (!member || post?.status !== 'visible') return; // erased, or taken down meanwhile
  const texts = TEXTS[member.locale === 'en' ? 'en' : 'fr'];
  const fill = (s: string) => s.replaceAll('{author}', post.author_name).replaceAll('{instance}', ctx.config.instanceName);
  const subject = fill(texts.subject).slice(0, 200);
  const link = `${ctx.config.publicUrl}/discussions/posts/${post.id}`;
  const mailer = getMailer(ctx);
  const sender = await mailer.sender();
  try {
    await mailer.send({
      from: sender.from,
      replyTo: sender.replyTo,
      to: formatAddress(member.email, member.display_name),
      subject,
      messageId: `${crypto.randomUUID()}@${hostOf(ctx.config.publicUrl)}`,
      text: `${fill(texts.body)}\n\n${texts.button} : ${link}\n\n${fill(texts.why)}\n`,
      html: `<!doctype html><html lang="${member.locale === 'en' ? 'en' : 'fr'}"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif;max-width:560px;margin:auto;padding:16px;color:#1a1a1a">
<p>${escapeHtml(fill(texts.body))}</p>
<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:12px 20px;background:#2d6a1f;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(texts.button)}</a></p>
<p style="font-size:14px;color:#444">${escapeHtml(fill(texts.why))}</p>
</body></html>`,
    });
  } catch (error) {
    if (error instanceof MailSendError && error.permanent) {
      ctx.log.warn({ smtpCode: error.responseCode }, 'mention email refused'); // the message may name the address
      return;
    }
    throw error;
  }
}
