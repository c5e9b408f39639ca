// Where a redirect may send a browser back to: a path on this site only. Used for `next=` after
// signing in and for the page the language switch returns to.

// Browsers drop tabs and newlines inside a URL and read "\" as "/": "/\t/evil.example" and
// "/\evil.example" would both become "//evil.example", another site. Any control character, space
// or backslash is therefore refused, as is a leading "//".
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused on purpose.
const UNSAFE = /[\u0000-\u0020\u007f\\]/;

/** `value` when it is a path on this site ("/admin?x=1"), otherwise undefined. */
export function localPath(value: string | undefined): string | undefined {
  if (!value?.startsWith('/') || value.startsWith('//') || UNSAFE.test(value)) return undefined;
  return value;
}
