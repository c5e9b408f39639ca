// Images shown on this instance's pages are served by this instance. When an editor points an
// announcement at an image on another site (its main image, or `![...](...)` in the body), the image
// is copied here as the announcement is saved, and the stored text refers to the copy: readers'
// browsers never call another server (no third-party request, nothing for that server to track),
// and the image survives the other site's changes. The copy goes through the outbound guard (no
// private addresses, size and time caps) and must really be a PNG, JPEG, GIF or WebP image.
import { Readable } from 'node:stream';
import { AppError } from '../core/errors.ts';
import { GuardError, type OutboundGuard } from '../federation/guard.ts';
import { detectKind, type FileKind } from '../storage/file-type.ts';
import type { FileStorage } from '../storage/storage.ts';

export const MEDIA_PATH = '/media/';
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** Images copied from one text at most (each is a fetch made while the editor waits). */
export const MAX_IMAGES_PER_TEXT = 10;

export const IMAGE_TYPES: Partial<Record<FileKind, string>> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
};

export interface MediaDeps {
  publicUrl: string;
  storage: FileStorage;
  guard: OutboundGuard;
}

/** True when `url` is an image already served by this instance. */
export function isLocalMedia(url: string, publicUrl: string): boolean {
  try {
    const u = new URL(url);
    return u.origin === new URL(publicUrl).origin && /^\/media\/[0-9a-f]{64}\.(png|jpeg|gif|webp)$/.test(u.pathname);
  } catch {
    return false;
  }
}

function refused(message: string): AppError {
  return new AppError('validation_failed', message, [{ field: 'imageUrl', code: 'imageUnavailable', message }]);
}

/** Copies the image at `url` into the media storage; answers the address of the copy. */
export async function copyImageHere(deps: MediaDeps, url: string): Promise<string> {
  if (isLocalMedia(url, deps.publicUrl)) return url;
  let answer: Awaited<ReturnType<OutboundGuard['exchange']>>;
  try {
    answer = await deps.guard.exchange(url, { headers: { accept: 'image/*' }, maxBytes: MAX_IMAGE_BYTES, timeoutMs: 15_000 });
  } catch (error) {
    if (error instanceof GuardError) {
      throw refused(
        error.kind === 'too_large'
          ? `The image at ${url} is larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MB.`
          : `The image at ${url} could not be fetched (${error.message}).`,
      );
    }
    throw error;
  }
  if (answer.status !== 200) throw refused(`The image at ${url} could not be fetched (HTTP ${answer.status}).`);
  let kind: FileKind | undefined;
  const put = await deps.storage.put(Readable.from([answer.body]), {
    maxBytes: MAX_IMAGE_BYTES,
    check: (sample) => {
      try {
        kind = detectKind(sample);
      } catch {
        kind = undefined;
      }
      if (!kind || !IMAGE_TYPES[kind]) throw refused(`The address ${url} is not a PNG, JPEG, GIF or WebP image.`);
      return kind;
    },
  });
  return new URL(`${MEDIA_PATH}${put.hash}.${put.checked}`, deps.publicUrl).href;
}

// ![alt](url) or ![alt](url "title"), with an http(s) URL: the form Markdown editors write.
const MARKDOWN_IMAGE = /!\[([^\]\n]*)\]\(\s*<?(https?:\/\/[^\s)>]+)>?(\s+"[^"\n]*")?\s*\)/g;

/** `markdown` with every image from another site replaced by its copy here. */
export async function localiseMarkdownImages(deps: MediaDeps, markdown: string): Promise<string> {
  const urls = [...new Set([...markdown.matchAll(MARKDOWN_IMAGE)].map((m) => m[2] as string))].filter(
    (u) => !isLocalMedia(u, deps.publicUrl),
  );
  if (urls.length === 0) return markdown;
  if (urls.length > MAX_IMAGES_PER_TEXT) {
    throw new AppError('validation_failed', `At most ${MAX_IMAGES_PER_TEXT} images from other sites per text.`, [
      { field: 'body', code: 'tooManyImages', message: `At most ${MAX_IMAGES_PER_TEXT} images from other sites per text.` },
    ]);
  }
  const copies = new Map<string, string>();
  for (const url of urls) copies.set(url, await copyImageHere(deps, url));
  return markdown.replace(MARKDOWN_IMAGE, (whole, alt: string, url: string, title = '') => {
    const copy = copies.get(url);
    return copy ? `![${alt}](${copy}${title})` : whole;
  });
}
