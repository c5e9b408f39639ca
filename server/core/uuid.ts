// Ids in URLs are checked before they reach the database: PostgreSQL rejects a malformed uuid with
// an error (a 500), where the visitor should simply get "not found".
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
