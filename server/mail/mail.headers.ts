// Everything that goes into a header passes through here, so that no user-supplied text (a name,
// a subject) can add a header: CR, LF and other control characters are removed, addresses are
// validated against a strict pattern before use.

function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029;
}

/** True when the text holds a control character (CR, LF, NUL...). */
export function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (isControl(value.charCodeAt(i))) return true;
  return false;
}

/** Control characters (CR, LF, NUL, tabs...) replaced by spaces, runs of spaces collapsed. */
export function headerText(value: string, maxLength = 200): string {
  let out = '';
  for (let i = 0; i < value.length; i++) out += isControl(value.charCodeAt(i)) ? ' ' : value[i];
  return out.replace(/\s+/g, ' ').trim().slice(0, maxLength);
}

// Deliberately stricter than RFC 5322: no quoted local parts, no comments, no IP literals. A
// newsletter list does not need them, and each one is a way to smuggle something into a header.
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** Trimmed and lower-cased: one person, one row. */
export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}

export function isValidEmail(value: string): boolean {
  if (value.length > 254) return false;
  const at = value.lastIndexOf('@');
  if (at <= 0 || at !== value.indexOf('@')) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64 || !LOCAL.test(local)) return false;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return false;
  return /^[A-Za-z]{2,63}$|^xn--[A-Za-z0-9-]+$/.test(labels[labels.length - 1]!);
}

/** `"Name" <address>` with the name cleaned and quoted; throws on an invalid address. */
export function formatAddress(address: string, name?: string | null): string {
  if (!isValidEmail(address)) throw new Error('invalid email address');
  const clean = name ? headerText(name, 100).replace(/["\\]/g, '') : '';
  return clean ? `"${clean}" <${address}>` : address;
}

/** Throws when any header name or value could break out of its line. */
export function assertSafeHeaders(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[A-Za-z0-9-]+$/.test(name)) throw new Error(`unsafe header name ${JSON.stringify(name)}`);
    if (hasControl(value)) throw new Error(`unsafe value for header ${name}`);
  }
}
