// "Schemas on every route": every route of the instance declares a schema, every route with a
// parameter in its URL validates it, and every POST/PUT/PATCH validates its body, except the few
// listed below whose body is not a form or JSON object (each says why) or that take no input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOf } from '../../server/app.ts';
import { startTestInstance, type TestInstance } from '../helpers/instance.ts';

/** Writes whose body is checked by code, not by a JSON schema, or that have none. */
const BODY_EXCEPTIONS: Record<string, string> = {
  'POST /ap/*': 'an ActivityPub activity: raw bytes (the signature covers them), parsed and checked by the inbox',
  'POST /inbox': 'the shared inbox: same as above',
  'POST /api/v1/subscribers/import': 'a CSV file (text/csv), parsed and checked row by row',
  'POST /api/v1/resources': 'multipart upload, checked by receiveUpload',
  'POST /api/v1/resources/:id/files': 'multipart upload, checked by receiveUpload',
  'POST /admin/resources': 'multipart form, checked by receiveUpload',
  'POST /admin/resources/:id/files': 'multipart form, checked by receiveUpload',
  'POST /admin/subscribers/import': 'multipart form (a CSV file): fields checked by the handler, rows by the import',
  'POST /admin/resources/:id/delete': 'an action without input (CSRF checked globally)',
  'POST /api/v1/followers/:id/accept': 'an action without input',
  'POST /api/v1/followers/:id/reject': 'an action without input',
  'POST /api/v1/newsletters/:id/pause': 'an action without input',
  'POST /api/v1/newsletters/:id/resume': 'an action without input',
  'POST /api/v1/newsletters/:id/cancel': 'an action without input',
  'POST /api/v1/discussions/groups/:id/join': 'an action without input',
  'POST /api/v1/discussions/groups/:id/leave': 'an action without input',
  'POST /api/v1/discussions/sign-out': 'an action without input',
};

describe('route schemas', () => {
  let instance: TestInstance;
  beforeAll(async () => {
    instance = await startTestInstance();
  });
  afterAll(async () => instance?.destroy());

  it('declares a schema on every route, params for every URL parameter, a body for every write', () => {
    const routes = routesOf(instance.app);
    expect(routes.length).toBeGreaterThan(100);
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const route of routes) {
      const name = `${route.method} ${route.url}`;
      seen.add(name);
      if (!route.schema) problems.push(`${name}: no schema`);
      if (/:\w/.test(route.url) && !route.schema?.params) problems.push(`${name}: URL parameters not validated`);
      if (['POST', 'PUT', 'PATCH'].includes(route.method) && !route.schema?.body && !(name in BODY_EXCEPTIONS)) {
        problems.push(`${name}: body not validated`);
      }
    }
    expect(problems).toEqual([]);
    // An exception for a route that no longer exists is a stale promise: remove it.
    expect(Object.keys(BODY_EXCEPTIONS).filter((name) => !seen.has(name))).toEqual([]);
  });
});
