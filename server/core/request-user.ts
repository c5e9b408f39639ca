// Who is making a request, as the accounts capability establishes it (session cookie or API
// token). Other capabilities read `request.user` and use the guards in accounts/guards.ts.
import type { Role } from '../accounts/accounts.tables.ts';

export interface RequestUser {
  id: string;
  email: string;
  displayName: string | null;
  role: Role;
  /** 'session' for a browser with a cookie, 'token' for an API client. */
  via: 'session' | 'token';
}

declare module 'fastify' {
  interface FastifyRequest {
    user: RequestUser | null;
  }
}
