// Configuration is read from the environment once, at start, and validated here.
// A bad value stops the start with one sentence naming the variable and what is expected:
// a volunteer reading the log must be able to fix it without reading the code.
import path from 'node:path';

export type ProcessRole = 'all' | 'web' | 'worker';
export type Locale = 'fr' | 'en';

export interface Config {
  port: number;
  host: string;
  /** Origin used in every federated id and every absolute link (no trailing slash). */
  publicUrl: string;
  dataDir: string;
  /** PostgreSQL connection string; undefined means the embedded database under dataDir. */
  databaseUrl: string | undefined;
  /** Shared buffers of the embedded database, in MB (PGlite's own default is 128). */
  pgliteSharedBuffersMb: number;
  /** SMTP connection string; undefined means emails are written to dataDir/outbox. */
  smtpUrl: string | undefined;
  instanceName: string;
  instanceHandle: string;
  federationAllowPrivate: boolean;
  /** Relay announcements received from followed networks to this instance's followers (Announce). */
  federationRelay: boolean;
  defaultLocale: Locale;
  role: ProcessRole;
  logLevel: string;
  trustProxy: boolean;
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, expected: string, got?: string) {
    super(`${variable} ${expected}${got === undefined ? '' : ` (got "${got}")`}.`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}`, raw);
  }
  return Number(raw);
}

/** Default of PGLITE_SHARED_BUFFERS (PGlite's own is 128): the embedded database opened at 235 MB
 * of RSS instead of 359, and searched 100,000 resources as fast as with 128 (16 was several times
 * slower); docs/performance.md, Newsletters. */
export const DEFAULT_PGLITE_SHARED_BUFFERS_MB = 32;

/** A size in megabytes, written `16` or `16MB`. */
function megabytes(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const m = raw.match(/^(\d+)\s*(mb)?$/i);
  if (!m || Number(m[1]) < min || Number(m[1]) > max) {
    throw new ConfigError(name, `must be a size in megabytes from ${min} to ${max}, such as ${fallback}MB`, raw);
  }
  return Number(m[1]);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, 'must be true or false', raw);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}`, raw);
  }
  return raw as T;
}

function urlWithScheme(env: Env, name: string, schemes: string[], example: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be a URL such as ${example}`, redact(raw));
  }
  if (!schemes.includes(url.protocol)) {
    throw new ConfigError(name, `must start with ${schemes.map((s) => `${s}//`).join(' or ')}, such as ${example}`, redact(raw));
  }
  return raw;
}

/** Hide a password in a connection string before it is printed. */
export function redact(raw: string): string {
  return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

function publicUrl(env: Env, port: number): string {
  const raw = text(env, 'PUBLIC_URL') ?? `http://localhost:${port}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('PUBLIC_URL', 'must be the public origin of this instance, such as https://amap-aura.org', raw);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('PUBLIC_URL', 'must start with https:// (or http:// for a local test)', raw);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username) {
    throw new ConfigError('PUBLIC_URL', 'must be an origin only, with no path, query or credentials, such as https://amap-aura.org', raw);
  }
  return url.origin;
}

export function loadConfig(env: Env = process.env): Config {
  const port = integer(env, 'PORT', 3000, 0, 65535);
  const handle = text(env, 'INSTANCE_HANDLE') ?? 'reseau';
  if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(handle)) {
    throw new ConfigError('INSTANCE_HANDLE', 'must be 1 to 40 lower-case letters, digits, - or _, starting with a letter or digit', handle);
  }
  const name = text(env, 'INSTANCE_NAME') ?? 'Réseau AMAP';
  if (name.length > 100) throw new ConfigError('INSTANCE_NAME', 'must be at most 100 characters');
  return {
    port,
    host: text(env, 'HOST') ?? '127.0.0.1',
    publicUrl: publicUrl(env, port),
    dataDir: path.resolve(text(env, 'DATA_DIR') ?? './data'),
    databaseUrl: urlWithScheme(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], 'postgres://user:password@localhost:5432/amap'),
    pgliteSharedBuffersMb: megabytes(env, 'PGLITE_SHARED_BUFFERS', DEFAULT_PGLITE_SHARED_BUFFERS_MB, 1, 1024),
    smtpUrl: urlWithScheme(env, 'SMTP_URL', ['smtp:', 'smtps:'], 'smtp://user:password@mail.example.org:587'),
    instanceName: name,
    instanceHandle: handle,
    federationAllowPrivate: boolean(env, 'FEDERATION_ALLOW_PRIVATE', false),
    federationRelay: boolean(env, 'FEDERATION_RELAY', false),
    defaultLocale: oneOf(env, 'DEFAULT_LOCALE', ['fr', 'en'] as const, 'fr'),
    role: oneOf(env, 'PROCESS_ROLE', ['all', 'web', 'worker'] as const, 'all'),
    logLevel: oneOf(env, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    trustProxy: boolean(env, 'TRUST_PROXY', false),
  };
}
