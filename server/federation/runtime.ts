// What the federation code shares at run time: the application context, the outbound guard, the
// instance actor's URLs and keys (loaded once per process from the database), and the Fedify
// Federation object once built. Fedify receives it as its context data.
import type { Federation } from '@fedify/fedify';
import type { AppContext } from '../core/context.ts';
import type { Urls } from './activities.ts';
import { DatabaseKvStore } from './fedify-kv.repository.ts';
import { OutboundGuard } from './guard.ts';
import { type InstanceKeys, loadInstanceKeys } from './keys.repository.ts';

export const ACTOR_PATH = '/ap/actors/{identifier}';

export class FederationRuntime {
  readonly app: AppContext;
  readonly guard: OutboundGuard;
  readonly kv: DatabaseKvStore;
  readonly handle: string;
  readonly urls: Urls & { inbox: URL; sharedInbox: URL; outbox: URL; following: URL; keyId: URL };
  federation!: Federation<FederationRuntime>;
  /** Called after a fan-out job was recorded (delivery.ts starts on it without waiting for a poll). */
  fanoutRecorded: () => void = () => {};
  #keys: Promise<InstanceKeys> | undefined;

  constructor(app: AppContext) {
    this.app = app;
    this.handle = app.config.instanceHandle;
    this.guard = new OutboundGuard({
      allowPrivate: app.config.federationAllowPrivate,
      userAgent: `amap-hub/0.1 (+${app.config.publicUrl})`,
    });
    this.kv = new DatabaseKvStore(app.db);
    const base = app.config.publicUrl;
    const actor = new URL(`/ap/actors/${this.handle}`, base);
    this.urls = {
      publicUrl: base,
      actor,
      followers: new URL(`${actor.pathname}/followers`, base),
      following: new URL(`${actor.pathname}/following`, base),
      inbox: new URL(`${actor.pathname}/inbox`, base),
      outbox: new URL(`${actor.pathname}/outbox`, base),
      sharedInbox: new URL('/inbox', base),
      keyId: new URL(`${actor.href}#main-key`),
    };
  }

  /** The actor's keys; generated on first use and shared by every process through the database. */
  keys(): Promise<InstanceKeys> {
    this.#keys ??= loadInstanceKeys(this.app.db).catch((error) => {
      this.#keys = undefined;
      throw error;
    });
    return this.#keys;
  }

  get host(): string {
    return new URL(this.app.config.publicUrl).host;
  }
}
