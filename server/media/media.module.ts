// The media capability: images copied from other sites (media.service.ts), kept by content hash
// under DATA_DIR/media (apart from the library's files, whose clean-up only knows its own), and
// served at /media/<hash>.<type> with headers that let browsers cache them for good (a hash never
// changes content) and never run them as anything but an image.
import path from 'node:path';
import { Type } from 'typebox';
import type { AppContext } from '../core/context.ts';
import type { AppServer } from '../core/http.ts';
import { OutboundGuard } from '../federation/guard.ts';
import { LocalFileStorage } from '../storage/local-storage.ts';
import { IMAGE_TYPES, type MediaDeps } from './media.service.ts';

const perInstance = new WeakMap<AppContext, MediaDeps>();

/** The media service's parts for this instance (one storage and one guard per instance). */
export function mediaFor(ctx: AppContext): MediaDeps {
  let deps = perInstance.get(ctx);
  if (!deps) {
    deps = {
      publicUrl: ctx.config.publicUrl,
      storage: new LocalFileStorage(path.join(ctx.config.dataDir, 'media')),
      guard: new OutboundGuard({
        allowPrivate: ctx.config.federationAllowPrivate,
        userAgent: `amap-hub/0.1 (+${ctx.config.publicUrl})`,
        maxBytes: 5 * 1024 * 1024,
      }),
    };
    perInstance.set(ctx, deps);
  }
  return deps;
}

export async function registerMedia(app: AppServer, ctx: AppContext): Promise<void> {
  const { storage } = mediaFor(ctx);
  app.get(
    '/media/:file',
    {
      schema: {
        params: Type.Object({ file: Type.String({ pattern: '^[0-9a-f]{64}\\.(png|jpeg|gif|webp)$' }) }),
      },
    },
    async (request, reply) => {
      const [hash, kind] = request.params.file.split('.') as [string, keyof typeof IMAGE_TYPES];
      const body = await storage.get(hash); // not_found (404) when missing
      return reply
        .header('content-type', IMAGE_TYPES[kind] ?? 'application/octet-stream')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox")
        .send(body);
    },
  );
}
