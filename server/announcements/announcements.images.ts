// Before an announcement is saved: its images from other sites are copied to this instance and the
// text refers to the copies (see server/media/media.service.ts). Runs before the transaction opens:
// fetching may take seconds and must not hold the database.
import type { MediaDeps } from '../media/media.service.ts';
import { copyImageHere, localiseMarkdownImages } from '../media/media.service.ts';
import { type AnnouncementInput, prepareAnnouncement } from './announcements.domain.ts';

/**
 * `input` with its images copied here. A new announcement is validated first, so that a missing
 * title or description is reported without waiting for (or failing on) an image's fetch.
 */
export async function withLocalImages<T extends AnnouncementInput>(media: MediaDeps, input: T, isNew = false): Promise<T> {
  if (isNew) prepareAnnouncement(input);
  const out = { ...input };
  const image = typeof input.imageUrl === 'string' ? input.imageUrl.trim() : '';
  if (/^https?:\/\//i.test(image)) out.imageUrl = await copyImageHere(media, image);
  if (typeof input.body === 'string' && input.body.includes('![')) out.body = await localiseMarkdownImages(media, input.body);
  return out;
}
